from movierec.cli import app

app(prog_name="movierec")
