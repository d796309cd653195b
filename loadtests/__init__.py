"""Load tests: locust scenarios (`locustfile.py`) and the headless runner (`run.py`).

    make loadtest GALLERY=100000 USERS=64 DURATION=120s
    .venv/bin/python -m loadtests.run --help
"""
