"""Each function's role in serverless.yml allows exactly what the function does: no more, no less.

Every function's scenarios (tests/iam/scenarios) run against the emulator with
its serverless.yml environment; every AWS call is recorded and mapped to the
IAM actions and resources AWS authorizes it by, Lambda's own use of the role
(logs, X-Ray, event sources) is added, and the role, evaluated as
CloudFormation would, is compared with the result, with New Relic off and on.
"""

from __future__ import annotations

import pytest

from app.local import sls_config
from tests.iam.calls import needs_of, recording
from tests.iam.harness import Stage
from tests.iam.policy import audit
from tests.iam.roles import function_names, grants_of, lambda_service_needs
from tests.iam.scenarios import registry

pytestmark = pytest.mark.integration

# What a package deploys: the local-only task types (FLAKY) have no role in AWS.
FUNCTIONS = function_names(sls_config.read(include_local_only=False))


def test_every_function_has_scenarios_and_every_scenario_a_function():
    scenarios = registry()
    without = sorted(set(FUNCTIONS) - set(scenarios))
    assert not without, (
        f"functions of serverless.yml with no IAM scenario: {without}; add a module to tests/iam/scenarios "
        "that runs every path of theirs that calls AWS"
    )
    assert not sorted(set(scenarios) - set(FUNCTIONS)), "scenarios of functions serverless.yml does not have"


def parameter_variants(stage: Stage) -> list[dict[str, str]]:
    """The stage as deployed by default, and with each optional parameter (New Relic's account) set."""
    optional = [name for name, value in stage.deployment.parameters.items() if value == ""]
    return [{}, *({name: "1234567890"} for name in optional)]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_role_allows_what_the_function_does_and_nothing_more(function, emulator_endpoint):
    scenarios = registry().get(function)
    if not scenarios:
        pytest.fail(f"{function} has no IAM scenario (tests/iam/scenarios)")
    stage = Stage.provision(emulator_endpoint)
    with stage.run_as(function), recording(ignored=stage.setup_clients) as recorder:
        for each in scenarios:
            recorder.scenario = each.name
            each.run(stage)
    needs = needs_of(recorder.calls, stage.deployment.account)
    assert needs, f"{function}'s scenarios made no AWS call"
    problems: dict[str, None] = {}
    for values in parameter_variants(stage):
        deployment = stage.deployment.with_parameters(**values)
        grants = grants_of(stage.document, function, deployment)
        everything = needs + lambda_service_needs(stage.document, function, deployment)
        problems.update(dict.fromkeys(audit(function, grants, everything)))
    assert not problems, "\n".join(problems)
