"""`python -m bench` (or `make bench`): every benchmark, printed as ratios to its baseline."""

from __future__ import annotations

from bench import bench_connectors, bench_consent, bench_gpp, bench_policy


def main() -> None:
    print(f"{'benchmark':<44} {'ratio':>8}  baseline")
    for result in bench_policy.run():
        print(result.line())
    for result in bench_gpp.run():
        print(result.line(), flush=True)
    for result in bench_connectors.run():
        print(result.line(), flush=True)
    for result in bench_consent.run():
        print(result.line(), flush=True)


if __name__ == "__main__":
    main()
