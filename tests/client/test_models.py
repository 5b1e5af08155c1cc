"""Tasks, events and pages read from the API's JSON; what the client doesn't know is kept."""

from async_app_client import FINAL_STATUSES, Task, TaskEvent, TaskPage, TaskStatus

from tests.client.support import task_json


def test_a_task_of_today_has_every_field_typed():
    task = Task.from_json(task_json(status="IN_PROGRESS", progress=50, status_msg="1 of 2 s"))
    assert (task.status, task.progress, task.status_msg) == ("IN_PROGRESS", 50, "1 of 2 s")
    assert task.data == {"duration_seconds": 2} and task.ttl == 1900000000
    assert task.result is None and task.run_at is None and task.callback_url is None
    assert task.extra == {} and not task.is_final


def test_the_fields_being_added_are_read():
    raw = task_json(
        status="COMPLETED", result={"slept_seconds": 2}, run_at=1795921000, callback_url="https://x"
    )
    task = Task.from_json(raw)
    assert task.result == {"slept_seconds": 2}
    assert (task.run_at, task.callback_url) == (1795921000, "https://x")


def test_unknown_fields_and_statuses_are_kept_not_refused():
    raw = task_json(status="PAUSED", priority=7, owner={"team": "ops"})
    task = Task.from_json(raw)
    assert task.status == "PAUSED" and not task.is_final
    assert task.extra == {"priority": 7, "owner": {"team": "ops"}}
    assert task.raw == raw


def test_a_task_with_only_the_essentials_is_read():
    task = Task.from_json({"id": "t", "task_type": "TASK9", "status": "SCHEDULED"})
    assert (task.id, task.status, task.data, task.created_time) == ("t", "SCHEDULED", {}, None)


def test_completed_failed_and_cancelled_are_final():
    assert {"COMPLETED", "FAILED", "CANCELLED"} == FINAL_STATUSES
    for status in TaskStatus:
        assert Task.from_json(task_json(status=status.value)).is_final == (status.value in FINAL_STATUSES)


def test_events_and_pages():
    event = TaskEvent.from_json(
        {
            "hop": "progress",
            "at_ms": 5,
            "since_created_ms": 3,
            "source": "worker TASK1",
            "status": "IN_PROGRESS",
            "attempt": 1,
            "progress": 50,
            "message": "1 of 2 s",
            "who": "new field",
        }
    )
    assert (event.hop, event.progress, event.attempt, event.raw["who"]) == ("progress", 50, 1, "new field")
    page = TaskPage.from_json({"tasks": [task_json(), task_json(id="other")], "next_token": "abc"})
    assert [task.id for task in page.tasks] == [task_json()["id"], "other"] and page.next_token == "abc"
    assert TaskPage.from_json({"tasks": []}) == TaskPage([], None)
