"""A job saved in a real session store is resumed by another Python process: it polls the job
to its end and reads the results (OpenAI's batch wire, replayed from the transcript)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import allm
import allm.batch as batch
from allm import stores

from .servers import OpenAIServer
from .test_batch_providers import KEY, engine, requests

ROOT = Path(__file__).resolve().parents[2]
RESUME = """
import sys
import allm, allm.batch as batch
from allm import stores
from tests.batch.servers import OpenAIServer
store = stores.SQLiteStore(sys.argv[1])
job = store.load(sys.argv[2]).metadata["batch_job"]
assert isinstance(job, allm.BatchJob), job
server = OpenAIServer()
engine = allm.Engine(adapter="openai", model="gpt-4o-mini", adapter_opts=server.clients())
done = batch.wait(engine, job, poll_interval=0, api_key=sys.argv[3])
for item in batch.results(engine, done, api_key=sys.argv[3]):
    print(item.custom_id, item.response.text if item.response else item.error.reason)
print(done.status, [r.url.path for r in server.sent if r.method == "POST"])
"""


def test_a_stored_job_resumes_in_another_process(tmp_path: Path) -> None:
    server = OpenAIServer()
    job = batch.submit(engine("openai", server), requests(), api_key=KEY)
    path = tmp_path / "jobs.sqlite3"
    with stores.SQLiteStore(path) as store:
        saved = store.save(allm.Session(metadata={"batch_job": job}))
        assert store.load(saved.id).metadata["batch_job"] == job
    assert KEY.encode() not in path.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", RESUME, str(path), str(saved.id), KEY],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    ).stdout.splitlines()
    assert out[:3] == ["a Hello.", "b invalid_request", "c timeout"]
    assert out[3] == "completed []"  # nothing was uploaded or created again
