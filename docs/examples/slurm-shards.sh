#!/bin/bash
# Run trustbench as a Slurm job array: one shard per array task, then merge.
#   sbatch docs/examples/slurm-shards.sh            # the 8 shards
#   sbatch --dependency=afterok:<jobid> --wrap \
#     "trustbench merge runs/shards/* --out runs/merged"
#SBATCH --job-name=trustbench
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --output=logs/trustbench-%A_%a.out
set -euo pipefail
N=8  # must equal the size of --array
I=${SLURM_ARRAY_TASK_ID}
# One cache file per shard (SQLite must not be shared over NFS); a re-queued task resumes from it.
trustbench run \
  --model local:/models/llama-3-8b-instruct.Q4_K_M.gguf \
  --suite trustllm --data /shared/trustllm \
  --shard "$I/$N" \
  --out "runs/shards/$I" \
  --cache "runs/cache/shard-$I.sqlite" \
  --no-progress --no-report
