from cunzhi.cli import app

app()
