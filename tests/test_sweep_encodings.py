"""Encodings from a new user's sweep: Korean and Cyrillic exports are never read as garble."""

from __future__ import annotations

from pathlib import Path

import pytest

from cstool.config import Settings
from cstool.errors import DataError
from cstool.pipeline import ReadOptions, load_table

HEAD = "customer_id,name,value_delivery,issue_resolution,growth_strategy\n"


def _write(tmp_path: Path, rows: str, encoding: str) -> Path:
    path = tmp_path / "c.csv"
    path.write_bytes((HEAD + rows).encode(encoding))
    return path


def test_a_korean_euc_kr_export_is_not_read_as_chinese(tmp_path: Path) -> None:
    path = _write(tmp_path, "K1,서울상사,8,7,6\nK2,부산무역,5,4,3\n", "euc-kr")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert "--encoding euc-kr" in (err.value.hint or "")
    table = load_table(path, Settings(), ReadOptions(encoding="euc-kr"))
    assert table.frame["name"].tolist() == ["서울상사", "부산무역"]


def test_a_cyrillic_cp1251_export_is_proposed_cp1251_first(tmp_path: Path) -> None:
    path = _write(tmp_path, "R1,ООО Ромашка,8,7,6\nR2,Иванов и партнёры,5,4,3\n", "cp1251")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    hint = err.value.hint or ""
    assert "it reads as Cyrillic (Windows-1251) text: --encoding cp1251" in hint
    table = load_table(path, Settings(), ReadOptions(encoding="cp1251"))
    assert table.frame["name"].tolist() == ["ООО Ромашка", "Иванов и партнёры"]


def test_western_and_chinese_files_keep_their_readings(tmp_path: Path) -> None:
    path = _write(tmp_path, "W1,Renée’s Café,8,7,6\nW2,Müller €,5,4,3\n", "cp1252")
    with pytest.raises(DataError) as err:
        load_table(path, Settings())
    assert "it reads as Western European (Windows-1252) text: --encoding cp1252" in (
        err.value.hint or ""
    )
    gbk = _write(tmp_path, "G1,客户编号测试公司,8,7,6\nG2,北京科技有限公司,5,4,3\n", "gbk")
    assert load_table(gbk, Settings()).frame["name"].tolist() == [
        "客户编号测试公司",
        "北京科技有限公司",
    ]
