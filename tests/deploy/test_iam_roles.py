"""The roles CloudFormation gets are the ones tests/integration/test_iam.py checked against the code.

That test reads the roles from serverless.yml (app.local.sls_config) and
evaluates them; here the packaged template must hold exactly those
statements, and nothing else may grant the functions more.
"""

from __future__ import annotations

import pytest

from app.local import sls_config
from tests.deploy.packaged import STAGE, function_logical_id, of_type, referenced
from tests.iam.roles import role_of

pytestmark = pytest.mark.deploy


@pytest.fixture(scope="module")
def document():
    return sls_config.read(stage=STAGE, include_local_only=False)


def test_each_functions_role_is_serverless_ymls_statement_for_statement(resources, document):
    for function in document["functions"]:
        role_id = role_of(document, function)
        assert referenced(resources[function_logical_id(function)]["Properties"]["Role"]) == role_id
        declared = document["resources"]["Resources"][role_id]["Properties"]
        deployed = resources[role_id]["Properties"]
        assert deployed["Policies"] == declared["Policies"], role_id
        assert not deployed.get("ManagedPolicyArns"), role_id


def test_no_policy_outside_the_roles_grants_anything(resources):
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        assert not of_type(resources, kind), (
            f"{kind} would grant what tests/integration/test_iam.py never saw"
        )
