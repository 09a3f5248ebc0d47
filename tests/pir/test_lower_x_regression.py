"""Regression (blacklist sharing): a screened account's ID with a lower-case x, or in another
stored form, silently missed the member's list. Uses only APIs that existed before
yinji.ids, so the same test run against the old code shows the miss."""

from yinji.pir.client import PirClient
from yinji.pir.keyword import KeywordDatabase
from yinji.pir.records import build_records
from yinji.pir.server import PirServer
from yinji.testing.parties import run_parties


def test_lower_case_x_and_other_forms_hit_the_list():
    rows = [{"id_no": "11010519491231002X", "tag": "aml"},
            {"id_no": "440301198001011231", "tag": "fraud"}]
    db = KeywordDatabase(build_records(rows, "id_no", ["tag"], "watch list"), label_size=16)
    queries = ["11010519491231002x", "１１０１０５１９４９１２３１００２Ｘ", '="11010519491231002x"',
               "'110105491231002", "440301198001011231", "440301198001011232"]

    def fn(party):
        if party.name == "S":
            PirServer.from_database(db).serve(party)
            return None
        c = PirClient(party.channel("S"))
        try:
            return c.query(queries)
        finally:
            c.close()

    got = run_parties(fn, names=["S", "C"])[1]
    assert got == [b'{"tag":"aml"}'] * 4 + [b'{"tag":"fraud"}', None]
