/**
 * An external database's host, and the credentials the bootstrap composes around it, keep their
 * meaning in every grammar they enter (issue #22 item 5): the synthesized bootstrap plan's templates
 * are rendered by the real `render` of src/programs/bootstrap.py (loaded from the synthesized
 * ConfigMap, Secret reads stubbed with hostile values), then read back by the consumers' own parsers
 * under /usr/bin/python3: configparser with MLflow's interpolation (ConfigParser(), as
 * mlflow/server/auth/config.py `read_auth_config` reads basic_auth.ini), SQLAlchemy's `make_url`
 * (MLflow's backend store) and libpq's conninfo parser (`psycopg2.extensions.parse_dsn`).
 */
import { execFileSync } from 'node:child_process';
import { Chart, Testing } from 'cdk8s';
import { MlPlatform } from '../../src/cdk8s/ml-platform';
import { TuningSweep } from '../../src/cdk8s/tuning-sweep';
import { ValidationError } from '../../src/core/errors';
import { BackendStore } from '../../src/core/platform';
import { StudyStorage } from '../../src/core/sweep';
import { find, K8sObject } from '../support/synth';

const PYTHON = '/usr/bin/python3';

function platform(host: string): K8sObject[] {
  const chart = new Chart(Testing.app(), 'p');
  new MlPlatform(chart, 'ml', {
    backendStore: BackendStore.external({ host, database: 'mlflow', username: { name: 'rds', key: 'user' }, password: { name: 'rds', key: 'pass' } }),
  });
  return Testing.synth(chart) as K8sObject[];
}

const READ_BACK = `
import configparser, json, sys, types
from psycopg2.extensions import parse_dsn
from sqlalchemy.engine import make_url
given = json.load(sys.stdin)
mod = types.ModuleType("bootstrap")
exec(compile(given["program"], "bootstrap.py", "exec"), mod.__dict__)
mod.read_secret = lambda ns, name: given["secrets"].get(name)
out = {}
for key, template in given["templates"].items():
    text = mod.render(template)
    if key == "basic_auth.ini":
        c = configparser.ConfigParser()
        c.read_string(text)
        uri = c["mlflow"]["database_uri"]
        out["ini"] = {"admin_username": c["mlflow"]["admin_username"], "admin_password": c["mlflow"]["admin_password"]}
    else:
        uri = text
    u = make_url(uri)
    dsn = parse_dsn(uri.replace("postgresql+psycopg2://", "postgresql://", 1))
    out[key] = {"host": u.host, "port": u.port, "database": u.database, "username": u.username, "password": u.password, "query": dict(u.query),
                "libpq": {k: dsn.get(k) for k in ("host", "port", "dbname", "user", "password", "sslmode")}}
print(json.dumps(out))
`;

describe.each(['db.internal.example.com', '10.0.0.5', 'fd00::5'])('external database at %s', (host) => {
  const objects = platform(host);
  const cm = find(objects, 'ConfigMap', 'ml-bootstrap');
  const plan = JSON.parse(cm.data['plan.json']);
  const compose = plan.compose.find((c: any) => 'basic_auth.ini' in c.keys);
  const user = 'ml flow@x/y?z%:#';
  const password = "p%(admin)s@h:o/s?t#'\"% %%";

  test('configparser, SQLAlchemy and libpq read back exactly the host, port, database, user, password and sslmode', () => {
    const secretsOf = (): Record<string, Record<string, string>> => {
      const s: Record<string, Record<string, string>> = { [compose.name]: {} };
      // Every key the templates name gets the hostile value of its kind.
      for (const m of JSON.stringify(compose.keys).matchAll(/\{\{secret:[a-z0-9-]+\/([a-z0-9.-]+):([-._a-zA-Z0-9]+)/g)) {
        s[m[1]] = s[m[1]] ?? {};
        s[m[1]][m[2]] = m[2] === 'username' ? user : m[2] === 'password' ? password : `other-${m[2]}`;
      }
      return s;
    };
    const input = JSON.stringify({ program: cm.data['bootstrap.py'], secrets: secretsOf(), templates: { 'basic_auth.ini': compose.keys['basic_auth.ini'], 'backend-store-uri': compose.keys['backend-store-uri'] } });
    const out = JSON.parse(execFileSync(PYTHON, ['-c', READ_BACK], { input, encoding: 'utf8', timeout: 60_000 }));
    for (const key of ['basic_auth.ini', 'backend-store-uri']) {
      const libpq = { host, port: '5432', dbname: 'mlflow', user, password, sslmode: 'require' };
      expect(out[key]).toEqual(Object.assign({ host, port: 5432, database: 'mlflow', username: user }, { password, query: { sslmode: 'require' }, libpq }));
    }
    // The admin login's keys are `username` and `password` too: configparser reads them back as given.
    expect(out.ini).toEqual({ admin_username: user, admin_password: password });
  });
});

describe('hosts that would change the URI or the INI are a ValidationError', () => {
  test.each([
    'db.example.com?sslmode=disable', 'db%41.example.com', 'user@db.example.com', 'db.example.com/other', 'db example.com', 'db.example.com:5432',
    'fe80::1%eth0', '[::1]', '-db.example.com', 'db..example.com', '', 'db.example.com\n',
  ])('%j', (host) => {
    let error: unknown;
    try {
      platform(host);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    expect(e.issues).toEqual([expect.objectContaining({ path: 'backendStore.host', value: host })]);
    expect(e.message).toContain('must be a DNS host name or an IP address alone (no scheme, port, path, user, "?", "%" or spaces)');
  });
});

test('a sweep\'s own PostgreSQL host is held to the same grammar', () => {
  const chart = new Chart(Testing.app(), 's');
  let error: unknown;
  try {
    new TuningSweep(chart, 'sweep', {
      namespace: 'team-a',
      trial: { image: 'ghcr.io/acme/train:1.0.0', command: ['python', 'train.py'] },
      parameters: [{ name: 'lr', type: 'float', low: 0.1, high: 1 }],
      objectives: [{ metric: 'loss', direction: 'minimize' }],
      budget: { trials: 4, workers: 1 },
      storage: StudyStorage.postgres({ host: 'db.example.com?sslmode=disable', database: 'optuna', username: { name: 'db', key: 'user' }, password: { name: 'db', key: 'pass' } }),
    });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).issues).toEqual([expect.objectContaining({ path: 'storage.host', value: 'db.example.com?sslmode=disable' })]);
});
