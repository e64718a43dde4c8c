"""Deployment: `flask check-deploy`, the production configuration in the environment
checked setting by setting and against its services (checks.py), run by
scripts/pre_deploy_check.sh; see docs/deployment.md "flask check-deploy"."""

from app.core.features import Feature
from app.deploy.cli import check_deploy_command

feature = Feature(
    name="deploy",
    commands=(check_deploy_command,),
)
