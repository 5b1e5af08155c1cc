"""IAM that matches the code, checked by recording what each function does.

Each function's scenarios (scenarios/) run its handler against the emulator,
with the environment serverless.yml gives it, and with the Lambda service's
part (event source pollers) played by app/local's pollers. Every AWS call made
meanwhile is recorded (calls.py) and turned into the IAM actions and resource
ARNs AWS authorizes it by; the Lambda service's own documented needs are
added (lambda_service.py). The function's role, read from serverless.yml and
evaluated as CloudFormation would (cloudformation.py, roles.py), must allow
every one of them and allow nothing else (policy.py).
"""
