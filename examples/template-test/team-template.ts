// A reusable template, as a platform team keeps it in its own repository: one call gives a team a
// tenant on the shared platform and a nightly GPU fine-tuning pipeline.
import { Chart } from 'cdk8s';
import { Cpu, Size } from 'mlplatform';
import { MlPlatform, TrainingPipeline } from 'mlplatform/cdk8s';

/** Props of {@link addFineTuneTeam}. */
export interface FineTuneTeamProps {
  /** Team (tenant and namespace) name. */
  readonly team: string;
  /** Training image, pinned. */
  readonly image: string;
  /** GPU pool the team trains on. */
  readonly pool: string;
  /** GPUs per training run (one node). @default 1 */
  readonly gpus?: number;
}

/** Adds the team's tenant (quota sized for one run at a time) and its nightly pipeline to `chart`. */
export function addFineTuneTeam(chart: Chart, platform: MlPlatform, props: FineTuneTeamProps): TrainingPipeline {
  const gpus = props.gpus ?? 1;
  platform.addTenant(props.team, { quota: { cpu: Cpu.cores(16), memory: Size.gibibytes(64), gpus: { [props.pool]: gpus } } });
  const pipeline = new TrainingPipeline(chart, `${props.team}-finetune`, {
    platform,
    namespace: props.team,
    schedule: { cron: '0 2 * * *' },
  });
  const prepare = pipeline.addStep('prepare', { image: props.image, command: ['python', '-m', 'prepare'], cpu: Cpu.cores(1), memory: Size.gibibytes(4) });
  pipeline.addStep('train', {
    after: [prepare],
    image: props.image,
    command: ['python', '-m', 'train'],
    gpus,
    pool: props.pool,
    cpu: Cpu.cores(4),
    memory: Size.gibibytes(16),
  });
  return pipeline;
}
