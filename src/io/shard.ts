// Which slice of a generated set this process makes. `i/k` by hand, or `auto` from the scheduler
// that started it: a Kubernetes Indexed Job (JOB_COMPLETION_INDEX; the pod is not told the
// completion count, so --shards K gives it) or a Slurm job array (SLURM_ARRAY_TASK_ID relative to
// SLURM_ARRAY_TASK_MIN, count SLURM_ARRAY_TASK_COUNT). Shards are contiguous index ranges.

export interface Shard { index: number; count: number; from?: string }

const int = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s.trim()) ? Number(s.trim()) : NaN);

export function parseShard(spec: string | undefined, shards: number | undefined, env: NodeJS.ProcessEnv = process.env): Shard {
  if (shards !== undefined && !(Number.isInteger(shards) && shards >= 1)) throw new Error(`--shards must be a positive integer, got ${shards}.`);
  if (spec === undefined) {
    if (shards !== undefined) throw new Error('--shards only applies with --shard auto.');
    return { index: 0, count: 1 };
  }
  if (spec === 'auto') return autoShard(shards, env);
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!m) throw new Error(`--shard "${spec}": expected i/k (e.g. 0/4 is the first of 4 shards) or auto.`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1) throw new Error(`--shard "${spec}": the shard count must be at least 1.`);
  if (index >= count) throw new Error(`--shard "${spec}": the index counts from 0, so it must be below ${count} (0/${count} … ${count - 1}/${count}).`);
  if (shards !== undefined && shards !== count) throw new Error(`--shard ${spec} and --shards ${shards} disagree on the shard count.`);
  return { index, count };
}

function autoShard(shards: number | undefined, env: NodeJS.ProcessEnv): Shard {
  const check = (s: Shard): Shard => {
    if (!(s.index >= 0 && s.index < s.count)) throw new Error(`--shard auto: ${s.from} gives shard ${s.index}, outside 0…${s.count - 1} of ${s.count} shards.`);
    return s;
  };
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = int(env.JOB_COMPLETION_INDEX);
    if (Number.isNaN(index)) throw new Error(`--shard auto: JOB_COMPLETION_INDEX="${env.JOB_COMPLETION_INDEX}" is not a non-negative integer.`);
    if (shards === undefined) throw new Error('--shard auto in a Kubernetes Indexed Job needs --shards K (the Job\'s spec.completions): the pod is not told the count.');
    return check({ index, count: shards, from: `JOB_COMPLETION_INDEX=${index}` });
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = int(env.SLURM_ARRAY_TASK_ID), min = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : int(env.SLURM_ARRAY_TASK_MIN);
    if (Number.isNaN(id) || Number.isNaN(min)) throw new Error(`--shard auto: SLURM_ARRAY_TASK_ID="${env.SLURM_ARRAY_TASK_ID}" / SLURM_ARRAY_TASK_MIN="${env.SLURM_ARRAY_TASK_MIN}" are not integers.`);
    const told = env.SLURM_ARRAY_TASK_COUNT === undefined ? undefined : int(env.SLURM_ARRAY_TASK_COUNT);
    if (told !== undefined && !(told >= 1)) throw new Error(`--shard auto: SLURM_ARRAY_TASK_COUNT="${env.SLURM_ARRAY_TASK_COUNT}" is not a positive integer.`);
    if (told !== undefined && shards !== undefined && told !== shards) throw new Error(`--shard auto: SLURM_ARRAY_TASK_COUNT=${told} but --shards ${shards}; drop --shards or make them agree.`);
    const count = told ?? shards;
    if (count === undefined) throw new Error('--shard auto: this Slurm job does not set SLURM_ARRAY_TASK_COUNT; pass --shards K.');
    return check({ index: id - min, count, from: `SLURM_ARRAY_TASK_ID=${id} (min ${min})` });
  }
  throw new Error('--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give --shard i/k instead.');
}

/** The contiguous image indices of shard `s` of `total` images. */
export function shardRange(total: number, s: Shard): { first: number; end: number } {
  return { first: Math.floor((s.index * total) / s.count), end: Math.floor(((s.index + 1) * total) / s.count) };
}
