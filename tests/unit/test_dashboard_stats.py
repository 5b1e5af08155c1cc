"""The stats page's numbers and charts, from aggregates given in memory (app/services/stats.py, charts.py)."""

from __future__ import annotations

import time

import pytest

from app.dashboard.charts import (
    FAILURES,
    PLOT_BOTTOM,
    PLOT_LEFT,
    PLOT_RIGHT,
    PLOT_TOP,
    THROUGHPUT,
    rate_chart,
)
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
    assert hour.queue_wait.p50 == pytest.approx(30, rel=0.05)
    assert hour.queue_wait.p95 == pytest.approx(4000, rel=0.05)
    assert stats.latency_text(hour.run_time.p50) == f"≈ {hour.run_time.p50:.3g} ms"
    assert hour.labels()[-1] == time.strftime("%H:%M UTC", time.gmtime(minute))
    assert result[1].series[0].failure_rate is None  # nothing finished: no rate, not 0 %


def test_latency_words_give_three_figures_in_the_fitting_unit():
    assert [stats.latency_text(ms) for ms in (None, 0.4, 52.34, 123.4, 2049, 300_000, 3_600_000)] == [
        "—", "< 1 ms", "≈ 52.3 ms", "≈ 123 ms", "≈ 2.05 s", "≈ 5 min", "≈ 60 min",
    ]  # fmt: skip


def test_the_top_failure_messages_are_the_most_frequent_of_the_window():
    hour = MinuteStats(failed=6)
    hour.failures.update({"timeout after N s": 3, "refused": 2, "bad data": 1})
    later = MinuteStats(failed=2)
    later.failures.update({"refused": 2})
    series = stats.Series(stats.DAY, [(0, hour), (3600, later)])
    assert series.top_failures(2) == [("refused", 4), ("timeout after N s", 3)]


def test_a_chart_puts_its_lines_on_one_scale_from_zero_to_their_busiest_point():
    counts = {"created": [0, 2, 4], "completed": [0, 1, 0], "failed": [0, 1, 0], "cancelled": [0, 0, 0]}
    chart = rate_chart(counts, THROUGHPUT, ["12:00", "12:01", "12:02"])
    assert chart.top == 4
    created = chart.lines[0].points.split()
    assert created[0] == f"{PLOT_LEFT}.0,{PLOT_BOTTOM}.0" and created[-1] == f"{PLOT_RIGHT}.0,{PLOT_TOP}.0"
    assert created[1] == f"{(PLOT_LEFT + PLOT_RIGHT) / 2},{(PLOT_TOP + PLOT_BOTTOM) / 2}"
    assert [line.total for line in chart.lines] == [6, 1]
    assert rate_chart({"created": [0, 0]}, THROUGHPUT).top == 1  # an empty chart still has a scale


def test_failures_have_a_scale_of_their_own_and_every_point_its_values_on_hover():
    counts = {
        "created": [900, 1000, 800],
        "completed": [880, 990, 790],
        "failed": [0, 1, 0],
        "cancelled": [0, 0, 0],
    }
    failures = rate_chart(counts, FAILURES, ["12:00", "12:01", "12:02"])
    # One failure reaches the top of its chart, rather than lying on the axis of a chart of a thousand.
    assert failures.top == 1
    assert failures.lines[0].points.split()[1] == f"{(PLOT_LEFT + PLOT_RIGHT) / 2},{PLOT_TOP}.0"
    assert [slot.title for slot in failures.slots] == [
        "12:00: 0 failed, 0 cancelled", "12:01: 1 failed, 0 cancelled", "12:02: 0 failed, 0 cancelled",
    ]  # fmt: skip
    # The columns tile the plot, edge to edge.
    assert failures.slots[0].x == PLOT_LEFT
    assert failures.slots[-1].x + failures.slots[-1].width == pytest.approx(PLOT_RIGHT)


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
