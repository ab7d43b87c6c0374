import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { platformReport, writePlatformReport } from '../../src/cdk8s/report';
import { Cpu, Duration } from '../../src/core';
import { buildFixture } from '../testing/fixture';

/** The Markdown table rows of a report whose first cells are `first` (`'TuningSweep | hp'`). */
function rows(markdown: string, first: string): string[] {
  return markdown.split('\n').filter((l) => l.startsWith(`| ${first} |`));
}

/** The lines of `section` (from its `## ` heading to the next). */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`no section ${title}`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

describe('platformReport: the numbers of a platform sized to be checked by hand', () => {
  const { app, chart } = buildFixture();
  const report = platformReport(app);
  const md = report.markdown;

  test('objects emitted: one row per construct, by kind, adding up to every object of the chart', () => {
    const objects = section(md, 'Objects emitted');
    expect(rows(objects, 'TuningSweep')).toEqual(['| TuningSweep | hp | team | 4 | ConfigMap 1, Job 2, ServiceAccount 1 |']);
    expect(rows(objects, 'TrainingPipeline')).toEqual(['| TrainingPipeline | train | team | 6 | Role 1, RoleBinding 1, Secret 1, ServiceAccount 2, WorkflowTemplate 1 |']);
    const total = report.constructs.reduce((s, c) => s + c.objects.reduce((t, o) => t + o.count, 0), 0);
    expect(total).toBe(chart.toJson().length);
    expect(report.constructs.map((c) => `${c.kind} ${c.name}`)).toEqual(['MlPlatform ml', 'TrainingPipeline train', 'TuningSweep hp', 'ModelEndpoint serve']);
  });

  test('requests: idle / peak per construct (sweep workers carry the Optuna container: +100m, +512Mi)', () => {
    const requests = section(md, 'Requests');
    // prep 1 core 2Gi, then fit 4 cores 16Gi 1 GPU (after prep: never at the same time); nothing runs between pipeline runs
    expect(rows(requests, 'TrainingPipeline | train')).toEqual(['| TrainingPipeline | train | 0 / 4 | 0 GiB / 16 GiB | 0 / 1 |']);
    // 2 workers × (2 + 0.1 cores, 8 + 0.5 GiB, 1 GPU) + the study-creation Job (0.1 core, 0.5 GiB)
    expect(rows(requests, 'TuningSweep | hp')).toEqual(['| TuningSweep | hp | 0 / 4.3 | 0 GiB / 17.5 GiB | 0 / 2 |']);
    // stable, canary and shadow: 1 replica each of 2 cores, 8 GiB, 1 GPU, always running
    expect(rows(requests, 'ModelEndpoint | serve')).toEqual(['| ModelEndpoint | serve | 6 / 6 | 24 GiB / 24 GiB | 3 / 3 |']);
    expect(requests).toContain('| TuningSweep | team/hp | worker | 2 | 2.1 | 8.5 GiB | 1 nvidia.com/gpu | a10g |');
    expect(requests).toContain('| TrainingPipeline | team/train | fit | 1 | 4 | 16 GiB | 1 nvidia.com/gpu | a10g |');
  });

  test('GPU demand vs capacity: 1 + 2 + 3 GPUs on a10g (capacity 4 × 1) is over by 2; h100 unused', () => {
    const demand = section(md, 'GPU demand vs pool capacity');
    expect(rows(demand, 'a10g')).toEqual([
      '| a10g | nvidia-a10g | g5.2xlarge | 1–4 | 1 nvidia.com/gpu | 4 | 6 | over by 2 | TrainingPipeline team/train fit: 1; TuningSweep team/hp worker: 2; '
      + 'ModelEndpoint team/serve stable: 1; ModelEndpoint team/serve canary: 1; ModelEndpoint team/serve shadow: 1 |',
    ]);
    expect(rows(demand, 'h100')).toEqual(['| h100 | nvidia-h100-80gb | p5.48xlarge | 0–2 | 8 nvidia.com/gpu | 16 | 0 | 16 | (none) |']);
  });

  test('cost envelope per pool from the catalog prices: g5.2xlarge $1.212, p5.48xlarge $55.04', () => {
    const cost = section(md, 'Cost envelope');
    expect(cost).toContain('On-demand Linux prices in us-east-1 pinned in the accelerator catalog (as of 2026-11-09)');
    // min 1 node; the peak demand of 6 brings up all 4 nodes; max 4 nodes
    expect(rows(cost, 'a10g')).toEqual(['| a10g | g5.2xlarge | on-demand | $1.212 | 1–4 | $1.21 | $4.85 (4 nodes) | $4.85 |']);
    expect(rows(cost, 'h100')).toEqual(['| h100 | p5.48xlarge | on-demand | $55.04 | 0–2 | $0.00 | $0.00 (0 nodes) | $110.08 |']);
    // 4 × 1.212 + 2 × 55.04 = 114.928
    expect(rows(cost, '**total**')).toEqual(['| **total** |  |  |  |  | **$1.21** | **$4.85** | **$114.93** |']);
    expect(report.pools.find((p) => p.pool === 'a10g')).toMatchObject({ capacity: 4, demand: 6, nodes: { min: 1, peak: 4, max: 4 }, usdPerNodeHour: 1.212 });
  });

  test('sweep worst case: (10 trials + 2 failures) × 1h × 1 GPU = 12 GPU-hours × $1.212 = $14.54', () => {
    expect(rows(section(md, 'Cost envelope'), 'team/hp')).toEqual(['| team/hp | a10g | 10 | 2 | 2 | 1h | none | 1 | 12 | $1.212 | $14.54 |']);
    expect(report.sweeps).toEqual([{ name: 'hp', namespace: 'team', gpuHours: 12, usd: 12 * 1.212 }]);
  });

  test('no findings on a platform that fits', () => {
    expect(report.findings).toEqual([]);
    expect(section(md, 'Check findings')).toContain('No findings');
  });

  test('the terminal summary (of the workloads chart; the platform is in a chart of its own)', () => {
    const split = buildFixture({ separatePlatformChart: true });
    expect(platformReport(split.chart).summary).toBe([
      'construct         name   objects    cpu    memory  gpus',
      'TrainingPipeline  train        6    0/4    0/16Gi   0/1',
      'TuningSweep       hp           4  0/4.3  0/17.5Gi   0/2',
      'ModelEndpoint     serve       19    6/6   24/24Gi   3/3',
      '',
      'pool  accelerator       nodes  demand/capacity         $/hour',
      'a10g  nvidia-a10g         1–4    6/4 over by 2    $1.21–$4.85',
      'h100  nvidia-h100-80gb    0–2             0/16  $0.00–$110.08',
      'sweep team/hp: worst case 12 GPU-hours, $14.54',
      'checks: 0 errors, 0 warnings',
      '',
    ].join('\n'));
    expect(report.summary.split('\n')[0]).toMatch(/^construct +name +objects +cpu +memory +gpus$/);
    expect(report.summary).toContain('checks: 0 errors, 0 warnings\n');
  });

  test('deterministic: the same constructs give the same bytes, with no timestamp', () => {
    expect(platformReport(buildFixture().app).markdown).toBe(md);
    expect(md).not.toMatch(/20\d\d-\d\d-\d\dT|generated at/i);
  });
});

describe('platformReport: budgets, findings and objects outside the constructs', () => {
  test('a deadline caps the sweep: 2 workers × 3h × 1 GPU = 6 GPU-hours, below (10 + 2) × 1h', () => {
    const { app } = buildFixture({ sweepBudget: { trials: 10, workers: 2, maxFailedTrials: 2, trialTimeout: Duration.hours(1), deadline: Duration.hours(3) } });
    expect(rows(platformReport(app).markdown, 'team/hp')).toEqual(['| team/hp | a10g | 10 | 2 | 2 | 1h | 3h | 1 | 6 | $1.212 | $7.27 |']);
  });

  test('a sweep with neither a trial timeout nor a deadline is unbounded, and says how to bound it', () => {
    const { app } = buildFixture({ sweepBudget: { trials: 10, workers: 2, maxFailedTrials: 2 } });
    const report = platformReport(app);
    expect(rows(report.markdown, 'team/hp')).toEqual(['| team/hp | a10g | 10 | 2 | 2 | none | none | 1 | unbounded (set budget.trialTimeout or budget.deadline) | $1.212 | n/a |']);
    expect(report.summary).toContain('sweep team/hp: worst case unbounded\n');
  });

  test('findings are listed with severity, check, workload, message and fix', () => {
    // 16 cores do not fit a g5.2xlarge (8 vCPU)
    const { app } = buildFixture({ fitCpu: Cpu.cores(16) });
    const report = platformReport(app);
    const [row] = rows(section(report.markdown, 'Check findings'), 'error');
    expect(row).toMatch(/^\| error \| schedulability \| TrainingPipeline team\/train step "fit" \| .*pool "a10g" \(g5\.2xlarge\).*16000m CPU/);
    expect(report.summary).toContain('checks: 1 error, 0 warnings');
  });

  test('objects outside the four constructs are counted as Other', () => {
    const { app, chart } = buildFixture();
    new ApiObject(chart, 'extra', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: 'team' } });
    expect(rows(platformReport(app).markdown, 'Other')).toEqual(['| Other | (outside the mlplatform constructs) |  | 1 | ConfigMap 1 |']);
  });

  test('a chart of workloads reports against the pools of a platform in another chart', () => {
    const app = Testing.app();
    const { platform } = buildFixture({}, app);
    const other = new Chart(app, 'other');
    const report = platformReport(other);
    expect(report.constructs).toEqual([]);
    expect(report.pools.map((p) => `${p.platform}/${p.pool} ${p.demand}`)).toEqual(['ml/a10g 0', 'ml/h100 0']);
    expect(platform.node.id).toBe('ml');
  });
});

test('writePlatformReport writes platform.md into the app outdir and returns the summary', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlplatform-report-'));
  try {
    const { app } = buildFixture({}, new App({ outdir }));
    const written = writePlatformReport(app);
    expect(written.file).toBe(path.join(outdir, 'platform.md'));
    expect(fs.readFileSync(written.file, 'utf8')).toBe(written.markdown);
    expect(written.summary).toContain('checks: 0 errors, 0 warnings');
    const other = writePlatformReport(app, { outdir: path.join(outdir, 'sub'), fileName: 'report.md' });
    expect(fs.readFileSync(path.join(outdir, 'sub', 'report.md'), 'utf8')).toBe(written.markdown);
    expect(other.file).toBe(path.join(outdir, 'sub', 'report.md'));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
