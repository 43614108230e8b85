"""openai-cf benchmarks: bridge overhead, streaming first-token delay and batching, cold start.

`python -m bench` (or `make bench`) runs all three and prints Markdown tables; `python -m bench
overhead|streaming|coldstart` runs one; `--quick` is a few-iteration smoke mode. Every figure is a
median over repeated runs, with its baseline measured in the same run, interleaved. Servers run
as separate uvicorn processes on loopback only and are always killed on exit.
"""
