"""Run a crowdsim sweep on a SLURM cluster: dask-jobqueue starts the workers as batch jobs.

The sweep itself is `crowdsim sweep EXPERIMENT --scheduler ADDRESS`: the runs go to the
cluster's workers as tasks, each finished run is written to the results folder at once,
and running the script again resumes where it stopped (a job that hit its wall time loses
only the runs under way). Every run's outcome depends on its seed only, so the results are
those of a laptop, whatever the workers.

    # on the cluster's login node, with crowdsim installed with the [dist] extra
    python experiments/cluster/slurm_sweep.py experiments/cluster/golden-week.toml \
        --jobs 10 --cores 32 --memory-gb 96 --walltime 01:00:00 --queue normal \
        --out results/golden-week-sweep
    # what one job asks SLURM for, without starting anything
    python experiments/cluster/slurm_sweep.py EXPERIMENT --print-job-script
    # the same sweep on this machine's cores (a dask LocalCluster instead of SLURM)
    python experiments/cluster/slurm_sweep.py EXPERIMENT --local 2 --out out/try
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any


def arguments() -> argparse.Namespace:
    """The command line: the experiment, where results go, and what to ask SLURM for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path, help="experiment file (crowdsim sweep)")
    parser.add_argument("--out", type=Path, default=None, help="results folder")
    parser.add_argument("--jobs", type=int, default=1, help="SLURM jobs (nodes) to start")
    parser.add_argument("--cores", type=int, default=32, help="cores per job: one worker each")
    parser.add_argument("--memory-gb", type=int, default=96, help="memory per job (GB)")
    parser.add_argument("--walltime", default="01:00:00", help="wall time per job")
    parser.add_argument("--queue", default=None, help="SLURM partition")
    parser.add_argument("--account", default=None, help="SLURM account")
    parser.add_argument("--batch-size", type=int, default=1, help="runs per dask task")
    parser.add_argument(
        "--local", type=int, default=0, metavar="N", help="N local worker processes, no SLURM"
    )
    parser.add_argument(
        "--print-job-script", action="store_true", help="print one job's script and stop"
    )
    return parser.parse_args()


def slurm_cluster(args: argparse.Namespace) -> Any:
    """Workers as SLURM jobs: one single-threaded worker process per core.

    A run is pure Python and one core's work; a Golden Week run needs about 1.4 GB, so a
    job gives each worker process memory / cores (3 GB with the defaults).
    """
    from dask_jobqueue import SLURMCluster  # noqa: PLC0415 - only on a SLURM cluster

    return SLURMCluster(
        cores=args.cores,
        processes=args.cores,
        memory=f"{args.memory_gb}GB",
        walltime=args.walltime,
        queue=args.queue,
        account=args.account,
        scheduler_options={"dashboard_address": None},
    )


def main() -> None:
    """Start the cluster, run the sweep on it, stop the cluster (also on failure)."""
    args = arguments()
    if args.local:
        from dask.distributed import LocalCluster  # noqa: PLC0415 - the [dist] extra

        cluster = LocalCluster(
            n_workers=args.local, threads_per_worker=1, processes=True, dashboard_address=None
        )
    else:
        cluster = slurm_cluster(args)
        if args.print_job_script:
            print(cluster.job_script())
            cluster.close()
            return
        cluster.scale(jobs=args.jobs)
    command = [sys.executable, "-m", "sim.cli", "sweep", str(args.experiment)]
    command += ["--scheduler", cluster.scheduler_address, "--batch-size", str(args.batch_size)]
    if args.out is not None:
        command += ["--out", str(args.out)]
    try:
        code = subprocess.run(command, check=False).returncode
    finally:
        cluster.close()
    sys.exit(code)


if __name__ == "__main__":
    main()
