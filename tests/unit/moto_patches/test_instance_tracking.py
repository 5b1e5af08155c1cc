"""instance_tracking: moto keeps no model object alive once nothing else refers to it."""

from __future__ import annotations

import pytest

from tests.unit.moto_patches.backends import backend, new_table, put, query


@pytest.mark.needs_patch("instance_tracking")
def test_moto_keeps_no_item_alive_once_it_is_overwritten():
    from moto.core.common_models import BaseModel
    from moto.dynamodb.models.dynamo_type import Item

    table_name = new_table(stream=False)
    for round_ in range(20):
        backend().transact_write_items([put(table_name, "a", group="g", order=str(round_))])
    assert not any(getattr(cls, "instances_tracked", None) for cls in (BaseModel, Item))
    assert len(query(table_name, "by_group", "g", None, None, None, True)[0]) == 1
