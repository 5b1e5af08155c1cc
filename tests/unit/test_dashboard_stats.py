"""The stats page's numbers and charts, from aggregates given in memory (app/services/stats.py, charts.py)."""

from __future__ import annotations

from app.dashboard.charts import PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, rate_chart
from app.domain.aggregates import MinuteStats, bucket_of
from app.domain.messages import TaskMessage
from app.services import stats
from app.services.dead_letters import DeadLetter, Peeked, configured_queues, read_message

NOW = 1_700_000_000 + 59  # 59 s into a minute


class Reader:
    def __init__(self, found):
        self.found = found
        self.asked = []

    def series_many(self, requests):
        self.asked.append(requests)
        return self.found


def test_each_type_reads_60_minutes_and_24_hours_in_one_call_ending_with_the_current_one():
    minute = NOW // 60 * 60
    busy = MinuteStats(created=4, completed=2, failed=1, cancelled=1)
    busy.wait.update({bucket_of(30): 3, bucket_of(4000): 1})
    busy.run.update({bucket_of(800): 3})
    reader = Reader({("TASK1", "M"): {minute: busy}})
    result = stats.stats(reader, clock=lambda: NOW)
    (requests,) = reader.asked
    assert ("TASK1", "M", minute - 59 * 60, minute) in requests
    assert ("TASK2", "H", NOW // 3600 * 3600 - 23 * 3600, NOW // 3600 * 3600) in requests
    hour = result[0].series[0]
    assert [len(series.points) for series in result[0].series] == [60, 24]
    assert hour.points[-1] == (minute, busy) and hour.points[0][1] == MinuteStats()
    assert hour.failure_rate == 1 / 3  # cancelled ones aside
    assert (hour.queue_wait.p50, hour.queue_wait.p95) == (50, 5000)
    assert stats.latency_text(hour.run_time.p50) == "≤ 1 s"
    assert result[1].series[0].failure_rate is None  # nothing finished: no rate, not 0 %


def test_latency_words_are_the_buckets_upper_bounds():
    assert [stats.latency_text(ms) for ms in (None, 50, 2000, 300_000, 3_600_000)] == [
        "—", "≤ 50 ms", "≤ 2 s", "≤ 5 min", "> 30 min",
    ]  # fmt: skip


def test_a_chart_puts_every_line_on_one_scale_from_zero_to_the_busiest_point():
    chart = rate_chart({"created": [0, 2, 4], "completed": [0, 1, 0], "failed": [], "cancelled": [0, 0, 0]})
    assert chart.top == 4
    created = chart.lines[0].points.split()
    assert created[0] == f"{PLOT_LEFT}.0,{PLOT_BOTTOM}.0" and created[-1] == f"{PLOT_RIGHT}.0,{PLOT_TOP}.0"
    assert created[1] == f"{(PLOT_LEFT + PLOT_RIGHT) / 2},{(PLOT_TOP + PLOT_BOTTOM) / 2}"
    assert [line.total for line in chart.lines] == [6, 1, 0, 0]
    assert rate_chart({"created": [0, 0]}).top == 1  # an empty chart still has a scale


def test_queues_are_shown_in_the_registrys_order_and_messages_say_what_they_name():
    queues = configured_queues(
        {"TASK2": "http://q/x-task2-dlq", "TASK1": "", "TASK9": "http://q/9"}, "http://q/pf"
    )
    assert queues == {"TASK2": ("http://q/x-task2-dlq", True), "publisher-failures": ("http://q/pf", False)}
    task_id = "0b7e8f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    body = TaskMessage(task_id, "TASK2").to_json()
    assert read_message(Peeked("m1", body, 5)) == DeadLetter("m1", 5, task_id=task_id)
    failure = (
        '{"requestContext": {"condition": "RetryAttemptsExhausted"}, "DDBStreamBatchInfo": {"batchSize": 2}}'
    )
    assert read_message(Peeked("m2", failure, 6)).records == 2
    assert read_message(Peeked("m3", "<script>" * 100, 7)).text == ("<script>" * 100)[:200]
    assert read_message(Peeked("m4", "{}", 8)) == DeadLetter("m4", 8, text="{}")
