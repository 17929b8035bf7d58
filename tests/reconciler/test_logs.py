import json
import logging

import pytest

from handoff.reconciler.logs import configure_json_logging
from handoff.redact import forget_all, register


def test_pass_records_are_one_redacted_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_json_logging()
    register("tok-123456789")
    try:
        logging.getLogger("handoff.reconciler").info(
            "pass finished", extra={"source": "web", "result": "Failed", "detail": "auth tok-123456789 refused",
                                    "seconds": 0.5})
    finally:
        forget_all()
        logging.getLogger("handoff").handlers.clear()
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["msg"] == "pass finished" and record["source"] == "web" and record["seconds"] == 0.5
    assert record["detail"] == "auth *** refused"
