"""Your task types: one module each, named after the type.

Adding one is copying a module here under a new name and changing its
``TASK_TYPE`` and ``run``; nothing else in the repository changes. Its queue,
dead-letter queue, subscription, function, role and alarms (serverless.yml),
the api's rights to its dead letters, the dashboard's filters and views and
the tests all follow the declarations (app/task_registry.py reads them).
What ``run`` gets, returns and raises: workers/contract.py.
"""
