from python:3.12-slim
run pip install flask
