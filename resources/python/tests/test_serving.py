"""atelier.serving under /usr/bin/python3: the scoring protocol over a real uvicorn server.

    cd resources/python && /usr/bin/python3 -m unittest tests.test_serving
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def post(url, body, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": ctype}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class ServingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from atelier.models import save_model

        cls.tmp = tempfile.TemporaryDirectory()
        X = pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "count": [1, 0, 1, 0, 1, 0], "city": ["a", "b", "a", "b", "a", "b"]})
        y = [0, 0, 0, 1, 1, 1]
        from sklearn.compose import ColumnTransformer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        pipe = make_pipeline(
            ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore"), ["city"])], remainder="passthrough"), LogisticRegression()
        ).fit(X, y)
        cls.model_dir = os.path.join(cls.tmp.name, "model")
        save_model(pipe, cls.model_dir, input_example=X.head(2))
        cls.port = free_port()
        cls.max_body = 4096
        env = dict(os.environ, PYTHONPATH=HERE)
        cls.proc = subprocess.Popen(
            [sys.executable, "-m", "atelier.serving", "--model-dir", cls.model_dir, "--port", str(cls.port), "--max-body", str(cls.max_body)],
            env=env, stderr=subprocess.PIPE,
        )
        cls.url = f"http://127.0.0.1:{cls.port}"
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(cls.url + "/ping", timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:
                if cls.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(cls.proc.stderr.read().decode())
                time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        cls.proc.stderr.close()
        cls.tmp.cleanup()

    def test_health_and_version(self):
        for path in ("/ping", "/health"):
            with urllib.request.urlopen(self.url + path) as r:
                self.assertEqual(r.status, 200)
        with urllib.request.urlopen(self.url + "/version") as r:
            self.assertRegex(r.read().decode(), r"^\d+\.\d+")

    def test_every_json_format_and_csv(self):
        rows = [{"amount": 1.0, "count": 1, "city": "a"}, {"amount": 6.0, "count": 0, "city": "b"}]
        bodies = [
            {"dataframe_split": {"columns": ["amount", "count", "city"], "data": [[1.0, 1, "a"], [6.0, 0, "b"]]}},
            {"dataframe_records": rows},
            {"instances": rows},
            {"inputs": {"amount": [1.0, 6.0], "count": [1, 0], "city": ["a", "b"]}},
        ]
        for b in bodies:
            status, doc = post(self.url + "/invocations", b)
            self.assertEqual(status, 200, doc)
            self.assertEqual(doc, {"predictions": [0, 1]})
        status, doc = post(self.url + "/invocations", b"amount,count,city\n1.0,1,a\n6.0,0,b\n", "text/csv")
        self.assertEqual((status, doc), (200, {"predictions": [0, 1]}))

    def test_bad_payloads_are_mlflow_errors(self):
        cases = [
            (b"{not json", "application/json", 400, "valid JSON"),
            ({"rows": []}, "application/json", 400, "exactly one of"),
            ({"dataframe_records": [{"amount": 1.0, "count": 1}]}, "application/json", 400, "missing inputs ['city']"),
            ({"dataframe_records": [{"amount": "lots", "count": 1, "city": "a"}]}, "application/json", 400, "Incompatible input types for column amount"),
            ({"dataframe_records": [{"amount": 1.0, "count": 1.5, "city": "a"}]}, "application/json", 400, "column count"),
            ({"dataframe_records": [{"amount": 1.0, "count": 1, "city": 3}]}, "application/json", 400, "column city"),
            (b"x", "application/xml", 415, "content types"),
            (b"{" + b" " * 5000 + b"}", "application/json", 413, "larger than"),
        ]
        for body, ctype, status, text in cases:
            got, doc = post(self.url + "/invocations", body, ctype)
            self.assertEqual(got, status, doc)
            self.assertEqual(doc["error_code"], "BAD_REQUEST")
            self.assertIn(text, doc["message"])

    def test_model_that_cannot_load_exits_with_the_python_error(self):
        broken = os.path.join(self.tmp.name, "broken")
        os.makedirs(broken)
        with open(os.path.join(broken, "MLmodel"), "w") as f:
            f.write("flavors:\n  sklearn:\n    pickled_model: model.pkl\n")
        with open(os.path.join(broken, "model.pkl"), "wb") as f:
            # a pickle of a class from a module that is not installed (protocol 2: GLOBAL opcode)
            f.write(b"\x80\x02cnot_a_module_x\nCls\nq\x00.")
        r = subprocess.run(
            [sys.executable, "-m", "atelier.serving", "--model-dir", broken, "--port", str(free_port())],
            env=dict(os.environ, PYTHONPATH=HERE), capture_output=True, timeout=60,
        )
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("No module named 'not_a_module_x'", r.stderr.decode())


if __name__ == "__main__":
    unittest.main()
