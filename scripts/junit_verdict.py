"""A pre-deploy test step's verdict from one shared pytest run's JUnit XML file:
`junit_verdict.py REPORT.xml tests/test_a.py tests/test_b.py` prints how those files'
tests went and exits 1 if any failed or errored, or if none ran (scripts/pre_deploy_check.sh
quick mode runs the unit, permission, financial and calendar files in one pytest process
and judges each step from its own files)."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET  # noqa: S405 - the file our own pytest run wrote


def main(argv: list[str]) -> int:
    report, files = argv[1], argv[2:]
    modules = [os.path.splitext(path)[0].replace("/", ".") for path in files]
    try:
        root = ET.parse(report).getroot()  # noqa: S314 - our own pytest's report
    except (OSError, ET.ParseError) as exc:
        print(f"no test report ({exc}): the shared pytest run did not finish")
        return 1
    passed, failed = 0, []
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        if not any(classname == m or classname.startswith(m + ".") for m in modules):
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{classname}::{case.get('name')}")
        elif case.find("skipped") is None:
            passed += 1
    for name in failed:
        print(f"  failed: {name}")
    print(f"  {' '.join(files)}: {passed} passed, {len(failed)} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
