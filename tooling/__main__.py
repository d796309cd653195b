from tooling.cli.main import app

app(prog_name="abis")
