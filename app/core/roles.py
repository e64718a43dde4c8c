"""The seven role codes (SPEC.md §1) and their labels."""

ADMIN = "admin"
PROJECT_MANAGER = "project_manager_full"
PM_TRAINEE = "pm_trainee"
DESIGNER = "designer"
SUPERINTENDENT = "superintendent"
EMPLOYEE = "employee"
CLIENT = "client"

ROLES = (ADMIN, PROJECT_MANAGER, PM_TRAINEE, DESIGNER, SUPERINTENDENT, EMPLOYEE, CLIENT)
ROLE_LABELS = {
    ADMIN: "Admin",
    PROJECT_MANAGER: "Project manager",
    PM_TRAINEE: "PM trainee",
    DESIGNER: "Designer",
    SUPERINTENDENT: "Superintendent",
    EMPLOYEE: "Employee",
    CLIENT: "Client",
}
# Roles that can be members of a project team (SPEC.md: "assigned" means member).
MEMBER_ROLES = (PROJECT_MANAGER, PM_TRAINEE, DESIGNER, SUPERINTENDENT)
PM_ROLES = (PROJECT_MANAGER, PM_TRAINEE)
