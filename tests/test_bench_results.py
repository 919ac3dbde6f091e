"""`make bench` writes each benchmark's numbers as JSON, and two runs compare number by number."""

import json

from bench import results


def test_a_benchmark_writes_its_numbers_with_the_machine_and_two_runs_compare(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(results, "DIRECTORY", tmp_path)
    monkeypatch.setattr(results, "ROOT", tmp_path)
    old = results.write("load", [{"target": "queue", "rps": 40.0, "p95": 1.5, "errors": 0}])
    stored = json.loads(old.read_text())
    assert stored["benchmark"] == "load" and stored["machine"]["cpus"] and stored["results"][0]["rps"] == 40.0
    new = dict(stored, results=[{"target": "queue", "rps": 120.0, "p95": 0.66, "errors": 0}])
    assert sorted(results.compare(stored, new)) == [("[0].errors", 0.0, 0.0, None), ("[0].p95", 1.5, 0.66, 0.44),
                                                    ("[0].rps", 40.0, 120.0, 3.0)]
    (tmp_path / "new.json").write_text(json.dumps(new))
    capsys.readouterr()
    assert results.main([str(old), str(tmp_path / "new.json")]) == 0
    assert "[0].rps" in capsys.readouterr().out
