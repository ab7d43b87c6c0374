#!/usr/bin/env python3
"""mlplatform credentials bootstrap, run by the bootstrap Job in the MLflow image (Python 3 and boto3,
nothing else needed). It reads a plan (JSON, synthesized by MlPlatform) and:

1. fills each "generate" Secret when it is empty (the platform's manifests create every Secret this
   program writes, empty, so its Role needs no `create`) or absent, with random hex values (never
   replaced, so passwords survive re-runs);
2. writes each "compose" Secret from templates over other Secrets' values
   ("{{secret:NAMESPACE/NAME:KEY}}", "|url" to percent-encode, "|ini" to escape "%" for
   configparser), replacing it, so derived values such as the backend store URI follow their sources;
   a generated, composed or MLflow-user Secret may also hold "files": INI files made of its own keys
   (the AWS shared credentials file, MLflow's ~/.mlflow/credentials), for the users' own programs;
3. copies "copy" Secrets into tenant namespaces;
4. creates the database roles (waiting until PostgreSQL answers), as the platform's database
   superuser (embedded) or master user (external, e.g. RDS), whose credential never leaves the
   platform namespace: the tracking server's role, owner of the MLflow database and of every table in
   it, and one role per tenant owning that tenant's own study database; nobody else may connect to
   either (CONNECT revoked from PUBLIC); passwords come from generated Secrets and are set on every run;
5. creates the bucket on the embedded object store (waiting until it answers);
6. creates one MLflow user per tenant (basic auth), waiting for the tracking server, keeps its
   password in a Secret of the tenant namespace, and gives the declared read grants between tenants.

It talks to the Kubernetes API with the pod's ServiceAccount token. K8S_API, SA_DIR and PLAN
override the API URL, token folder and plan path (used by the tests)."""
import base64, configparser, io, json, os, re, secrets, ssl, time, urllib.error, urllib.parse, urllib.request

# The plan, the API's URL, the ServiceAccount token and the TLS context: set by configure().
PLAN = API = TOKEN = CTX = None
WAIT_SECONDS = int(os.environ.get("WAIT_SECONDS", "900"))


def configure(env=os.environ):
    global PLAN, API, TOKEN, CTX
    with open(env.get("PLAN", "/etc/bootstrap/plan.json")) as f:
        PLAN = json.load(f)
    sa = env.get("SA_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
    API = env.get("K8S_API") or "https://%s:%s" % (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"])
    with open(os.path.join(sa, "token")) as f:
        TOKEN = f.read().strip()
    CTX = ssl.create_default_context(cafile=os.path.join(sa, "ca.crt")) if API.startswith("https") else None


def log(*args):
    print("[bootstrap]", *args, flush=True)


def parse(raw):
    # Error bodies are not always JSON (MLflow's basic-auth 401/403, a proxy's error page): keep
    # their text as the message, so the failure names the HTTP status instead of a JSONDecodeError.
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {"message": raw.decode("utf-8", "replace").strip()[:300]}


def api(method, path, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(API + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
            return r.status, parse(r.read())
    except urllib.error.HTTPError as e:
        return e.code, parse(e.read())


def secret_path(ns, name=None):
    return "/api/v1/namespaces/%s/secrets" % ns + ("/" + name if name else "")


def get_secret(ns, name):
    """The Secret's data (decoded) and labels, or None."""
    status, body = api("GET", secret_path(ns, name))
    if status == 404:
        return None
    if status != 200:
        raise SystemExit("reading secret %s/%s: HTTP %s %s" % (ns, name, status, body.get("message")))
    data = {k: base64.b64decode(v).decode() for k, v in (body.get("data") or {}).items()}
    return data, (body.get("metadata") or {}).get("labels") or {}


def read_secret(ns, name):
    found = get_secret(ns, name)
    return found[0] if found else None


def manifest(ns, name, data, labels):
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def create_secret(ns, name, data, labels):
    status, body = api("POST", secret_path(ns), manifest(ns, name, data, labels))
    if status == 409:
        return False
    if status not in (200, 201):
        raise SystemExit("creating secret %s/%s: HTTP %s %s" % (ns, name, status, body.get("message")))
    return True


def write_secret(ns, name, data, labels):
    """Replaces the Secret's content. The platform's manifests create every Secret this program writes
    (empty), so its Role needs no `create`, which Kubernetes cannot limit by name: it may write exactly
    the Secrets it names. Without that shell (manifests not applied), it tries to create the Secret."""
    for attempt in (1, 2):
        status, body = api("PUT", secret_path(ns, name), manifest(ns, name, data, labels))
        if status == 200:
            return "written"
        if status != 404 or attempt == 2:
            raise SystemExit("writing secret %s/%s: HTTP %s %s" % (ns, name, status, body.get("message")))
        if create_secret(ns, name, data, labels):
            return "created"
        # Created by someone else meanwhile (409): update it once more.


TEMPLATE = re.compile(r"\{\{secret:([a-z0-9-]+)/([a-z0-9.-]+):([-._a-zA-Z0-9]+)(\|url)?(\|ini)?\}\}")


def render(template):
    def value(m):
        found = read_secret(m.group(1), m.group(2))
        if found is None or m.group(3) not in found:
            raise SystemExit("template needs %s/%s key %s, which does not exist" % m.group(1, 2, 3))
        v = found[m.group(3)]
        if m.group(4):
            v = urllib.parse.quote(v, safe="")
        # configparser (MLflow's basic_auth.ini) treats "%" as interpolation: double it.
        return v.replace("%", "%%") if m.group(5) else v
    return TEMPLATE.sub(value, template)


# What an INI value may hold: printable ASCII (the readers decode the file with the locale's encoding),
# no leading or trailing space (configparser strips it) and no line break (it would end the value).
INI_VALUE = re.compile(r"[!-~]([ -~]*[!-~])?")


def ini_file(spec, data, where):
    """An INI file of one section whose options are keys of the same Secret (`spec`: "section",
    "values" option -> key, "interpolation"). Written with configparser itself; with "interpolation"
    (the reader uses ConfigParser: MLflow's mlflow/utils/credentials.py) "%" is doubled, without it
    (RawConfigParser: botocore's configloader.raw_config_parse) values are written as they are. A value
    configparser cannot carry unchanged is refused, naming the Secret key, never its value."""
    cp = configparser.RawConfigParser()
    cp.optionxform = str
    cp.add_section(spec["section"])
    for option, key in spec["values"].items():
        if key not in data:
            raise SystemExit("%s: its file needs key %s, which it does not hold" % (where, key))
        v = data[key]
        if not INI_VALUE.fullmatch(v):
            raise SystemExit("%s key %s cannot be written into an INI credentials file: it must be printable ASCII without "
                             "line breaks or leading/trailing spaces (configparser would change it); use a value without them" % (where, key))
        cp.set(spec["section"], option, v.replace("%", "%%") if spec.get("interpolation") else v)
    out = io.StringIO()
    cp.write(out)
    return out.getvalue()


def with_files(s, data, where):
    """`data` plus the Secret's "files" (INI keys made of its other keys)."""
    files = {k: ini_file(f, data, where) for k, f in (s.get("files") or {}).items()}
    return dict(data, **files)


# Label of the Secrets this program generated (as opposed to copied or composed by an older version).
GENERATED = "mlplatform.io/generated"


def matches(existing, keys):
    """Whether an existing Secret still fits its plan: every fixed value equal, every random key present.
    With "replaceWhenDifferent", one that does not (e.g. a tenant database Secret an older version filled
    with the platform's own login) is replaced with fresh values rather than kept."""
    return all(k in existing and (existing[k] == v["value"] if "value" in v else existing[k] != "") for k, v in keys.items())


def generate():
    labels = dict(PLAN["labels"], **{GENERATED: "true"})
    for s in PLAN.get("generate", []):
        found = get_secret(s["namespace"], s["name"])
        filled = found is not None and found[0] and all(found[0].get(k) for k in s["keys"])
        where = s["namespace"] + "/" + s["name"]
        if filled and (not s.get("replaceWhenDifferent") or (found[1].get(GENERATED) == "true" and matches(found[0], s["keys"]))):
            full = with_files(s, found[0], where)
            if full != found[0]:
                # Its files are missing (written by an older version) or no longer match its keys.
                write_secret(s["namespace"], s["name"], full, found[1])
                log("kept (files written)", where)
            else:
                log("kept", where)
            continue
        data = {k: (v["value"] if "value" in v else secrets.token_hex(v["randomBytes"])) for k, v in s["keys"].items()}
        data = with_files(s, data, where)
        if found is not None:
            # The empty Secret the manifests created, or one that does not fit its plan.
            why = "" if not found[0] else " (it did not match its plan)"
            write_secret(s["namespace"], s["name"], data, labels)
            log("generated" + why, s["namespace"] + "/" + s["name"])
            continue
        created = create_secret(s["namespace"], s["name"], data, labels)
        log("generated" if created else "kept (created concurrently)", s["namespace"] + "/" + s["name"])


CHANGED = set()


def compose():
    for s in PLAN.get("compose", []):
        data = with_files(s, {k: render(t) for k, t in s["keys"].items()}, s["namespace"] + "/" + s["name"])
        before = read_secret(s["namespace"], s["name"]) or {}
        log(write_secret(s["namespace"], s["name"], data, PLAN["labels"]), s["namespace"] + "/" + s["name"])
        # Changed: a key its readers may already have loaded now holds another value (a key written for
        # the first time is read when the reader starts, which waits for it).
        if any(k in before and before[k] != v for k, v in data.items()):
            CHANGED.add((s["namespace"], s["name"]))


def restart():
    """Restarts the workloads that read a composed Secret only when they start (SeaweedFS reads its
    identities file once), when this run changed that Secret: the pod template's
    mlplatform.io/restartedAt annotation, as `kubectl rollout restart` does with its own."""
    for r in PLAN.get("restarts", []):
        if (r["secret"]["namespace"], r["secret"]["name"]) not in CHANGED:
            continue
        w = r["workload"]
        path = "/apis/apps/v1/namespaces/%s/%s/%s" % (w["namespace"], w["resource"], w["name"])
        body = {"spec": {"template": {"metadata": {"annotations": {"mlplatform.io/restartedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}}}}
        status, answer = api("PATCH", path, body, "application/strategic-merge-patch+json")
        if status == 404:
            log("nothing to restart:", w["resource"], w["namespace"] + "/" + w["name"], "does not exist yet")
        elif status != 200:
            raise SystemExit("restarting %s %s/%s: HTTP %s %s" % (w["resource"], w["namespace"], w["name"], status, answer.get("message")))
        else:
            log("restarted", w["resource"], w["namespace"] + "/" + w["name"], "(its Secret %s changed)" % r["secret"]["name"])


def copy():
    for c in PLAN.get("copy", []):
        src = read_secret(c["from"]["namespace"], c["from"]["name"])
        if src is None:
            raise SystemExit("cannot copy %s/%s: it does not exist" % (c["from"]["namespace"], c["from"]["name"]))
        data = {to: src[frm] for to, frm in c["keys"].items()}
        log(write_secret(c["to"]["namespace"], c["to"]["name"], data, PLAN["labels"]), c["to"]["namespace"] + "/" + c["to"]["name"])


def retry(what, fn):
    deadline = time.time() + WAIT_SECONDS
    while True:
        try:
            return fn()
        except Exception as e:  # the service may still be starting
            if time.time() > deadline:
                raise SystemExit("%s: gave up after %ss: %s" % (what, WAIT_SECONDS, e))
            log(what, "not ready yet:", e)
            time.sleep(5)


def connect(d, dbname):
    import psycopg2
    admin = read_secret(d["admin"]["namespace"], d["admin"]["name"])
    if admin is None:
        raise RuntimeError("the database login %s/%s does not exist yet" % (d["admin"]["namespace"], d["admin"]["name"]))
    kwargs = {"host": d["host"], "port": d["port"], "dbname": dbname, "sslmode": d["sslMode"], "connect_timeout": 10,
              "user": admin[d["admin"]["usernameKey"]], "password": admin[d["admin"]["passwordKey"]]}
    if d.get("sslRootCert"):
        kwargs["sslrootcert"] = d["sslRootCert"]
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
    return conn


def one(cur, sql, args=()):
    cur.execute(sql, args)
    row = cur.fetchone()
    return row[0] if row else None


def ensure_role(cur, role, password, superuser):
    """A LOGIN role with `password`, no SUPERUSER/CREATEDB/CREATEROLE, that the bootstrap may hand objects to."""
    from psycopg2 import sql
    ident = sql.Identifier(role)
    cur.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = %s", (role,))
    row = cur.fetchone()
    if row is None:
        cur.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s").format(ident), (password,))
        log("created database role", role)
    else:
        if any(row):
            if not superuser:
                raise SystemExit("database role %s holds SUPERUSER, CREATEDB or CREATEROLE and this login cannot take them away: "
                                 "revoke them (ALTER ROLE %s NOSUPERUSER NOCREATEDB NOCREATEROLE) or drop the role" % (role, role))
            cur.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE").format(ident))
        # The password follows its Secret on every run.
        cur.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD %s").format(ident), (password,))
        log("kept database role", role)
    if not superuser and not one(cur, "SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,)):
        # A master user with CREATEROLE (RDS) may hand a database to a role only as one of its members.
        cur.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(ident))


def ensure_database(cur, name, owner):
    from psycopg2 import sql
    if one(cur, "SELECT 1 FROM pg_database WHERE datname = %s", (name,)) is None:
        cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))
        log("created database", name)
    else:
        cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner)))
    # Only its owner (and superusers) may connect: not the other tenants, not the tracking server.
    cur.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))


OWNED_KINDS = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}


def hand_over(d, dbname, owner):
    """Every relation of the database's own schemas goes to `owner` (tables an older version created
    as the superuser, or that the master user created on RDS)."""
    from psycopg2 import sql
    with connect(d, dbname) as conn, conn.cursor() as cur:
        cur.execute("""SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
                       AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND pg_get_userbyid(c.relowner) <> %s
                       AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = c.oid AND dep.deptype IN ('a', 'i'))""", (owner,))
        rows = cur.fetchall()
        for nsp, rel, kind in rows:
            cur.execute(sql.SQL("ALTER {} {}.{} OWNER TO {}").format(sql.SQL(OWNED_KINDS[kind]), sql.Identifier(nsp), sql.Identifier(rel), sql.Identifier(owner)))
        if rows:
            log("handed %d relations of %s to %s" % (len(rows), dbname, owner))
    conn.close()


def databases():
    d = PLAN.get("database")
    if not d:
        return
    conn = retry("database", lambda: connect(d, d["database"]))
    with conn.cursor() as cur:
        superuser = one(cur, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        for r in [d["tracking"]] + d.get("tenants", []):
            s = read_secret(r["secret"]["namespace"], r["secret"]["name"])
            if s is None or not s.get(r["secret"]["passwordKey"]):
                raise SystemExit("database role %s needs its Secret %s/%s, which does not exist" % (r["role"], r["secret"]["namespace"], r["secret"]["name"]))
            ensure_role(cur, r["role"], s[r["secret"]["passwordKey"]], superuser)
        ensure_database(cur, d["database"], d["tracking"]["role"])
        for t in d.get("tenants", []):
            ensure_database(cur, t["database"], t["role"])
        # The maintenance databases hold nothing of a tenant's: no CONNECT for them either, where this login
        # may say so (a superuser, or their owner; on a managed server they may belong to the provider).
        from psycopg2 import sql
        cur.execute("SELECT datname FROM pg_database WHERE datname IN ('postgres', 'template1') AND (%s OR pg_get_userbyid(datdba) = current_user)", (bool(superuser),))
        for (name,) in cur.fetchall():
            cur.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    conn.close()
    hand_over(d, d["database"], d["tracking"]["role"])


def bucket():
    b = PLAN.get("bucket")
    if not b:
        return
    import boto3
    from botocore.exceptions import ClientError
    creds = read_secret(b["credentials"]["namespace"], b["credentials"]["name"])
    s3 = boto3.client("s3", endpoint_url=b["endpoint"], region_name=b["region"],
                      aws_access_key_id=creds[b["credentials"]["accessKeyIdKey"]],
                      aws_secret_access_key=creds[b["credentials"]["secretAccessKeyKey"]])

    def create():
        try:
            s3.create_bucket(Bucket=b["name"])
            log("created bucket", b["name"])
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                log("kept bucket", b["name"])
            else:
                raise
    retry("object store", create)


def mlflow(method, uri, path, auth, body):
    req = urllib.request.Request(uri + path, data=json.dumps(body).encode() if body is not None else None, method=method)
    req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode())
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, parse(r.read())
    except urllib.error.HTTPError as e:
        return e.code, parse(e.read())


def users():
    u = PLAN.get("mlflowUsers")
    if not u:
        return
    admin = read_secret(u["admin"]["namespace"], u["admin"]["name"])
    auth = (admin[u["admin"]["usernameKey"]], admin[u["admin"]["passwordKey"]])

    def health():
        with urllib.request.urlopen(u["uri"] + "/health", timeout=10) as r:
            if r.status != 200:
                raise RuntimeError("HTTP %s" % r.status)
    retry("tracking server", health)
    for user in u["users"]:
        ns, name = user["secret"]["namespace"], user["secret"]["name"]
        existing = read_secret(ns, name)
        if existing is not None and not existing.get("password"):
            existing = None  # the empty Secret the manifests created
        password = existing["password"] if existing else secrets.token_hex(24)
        status, body = mlflow("POST", u["uri"], "/api/2.0/mlflow/users/create", auth, {"username": user["username"], "password": password})
        if status == 200:
            log("created MLflow user", user["username"])
        elif body.get("error_code") == "RESOURCE_ALREADY_EXISTS":
            if existing is None:
                status, body = mlflow("PATCH", u["uri"], "/api/2.0/mlflow/users/update-password", auth, {"username": user["username"], "password": password})
                if status != 200:
                    raise SystemExit("resetting MLflow user %s: HTTP %s %s" % (user["username"], status, body))
                log("reset MLflow user", user["username"])
        else:
            raise SystemExit("creating MLflow user %s: HTTP %s %s" % (user["username"], status, body))
        data = with_files(user, {"username": user["username"], "password": password}, ns + "/" + name)
        if existing is None:
            write_secret(ns, name, data, PLAN["labels"])
            log("stored credentials", ns + "/" + name)
        elif existing != data:
            # Its files are missing (written by an older version): the same password, with them.
            write_secret(ns, name, data, PLAN["labels"])
            log("stored credential files", ns + "/" + name)
    for x in u.get("experimentShares", []):
        share_experiment(u, auth, x)
    for g in u.get("grants", []):
        # An upsert on (user, resource type, resource id) in MLflow 3's auth store; the resource need not exist yet.
        body = {"username": g["username"], "resource_type": g["resourceType"], "resource_id": g["resourceId"], "permission": g["permission"]}
        status, answer = mlflow("POST", u["uri"], "/api/3.0/mlflow/users/permissions/grant", auth, body)
        if status != 200:
            raise SystemExit("granting %s on %s %s to %s: HTTP %s %s" % (g["permission"], g["resourceType"], g["resourceId"], g["username"], status, answer))
        log("granted", g["permission"], "on", g["resourceType"], g["resourceId"], "to", g["username"])


def share_experiment(u, auth, x):
    """A declared experiment share (MlPlatform.shareExperiment): the experiment is created with the
    admin login when it does not exist yet, and its owner tenant gets MANAGE on it (what MLflow gives the
    creator); one that exists must already be the owner's (MANAGE), else another tenant created it under
    that name and sharing it would hand that tenant's experiment to the owner. Then each reader gets READ:
    MLflow keys experiment permissions by id (mlflow/server/auth/__init__.py `_role_permission_for` with
    resource_type "experiment"), so the id is looked up here, at run time. READ on the experiment is what
    the artifact proxy checks for an `mlflow-artifacts:/<experiment id>/...` download
    (`_get_permission_from_experiment_id_artifact_proxy`)."""
    name, owner = x["name"], x["owner"]
    query = urllib.parse.urlencode({"experiment_name": name})
    status, body = mlflow("GET", u["uri"], "/api/2.0/mlflow/experiments/get-by-name?" + query, auth, None)
    grants = []
    if status == 200:
        exp = body["experiment"]
        if exp.get("lifecycle_stage") == "deleted":
            raise SystemExit("sharing experiment %r: it is deleted (id %s); restore it or delete it permanently (mlflow gc)" % (name, exp["experiment_id"]))
        query = urllib.parse.urlencode({"username": owner, "resource_type": "experiment", "resource_id": exp["experiment_id"]})
        status, answer = mlflow("GET", u["uri"], "/api/3.0/mlflow/users/permissions/get?" + query, auth, None)
        if status != 200:
            raise SystemExit("sharing experiment %r: reading %s's permission: HTTP %s %s" % (name, owner, status, answer))
        if answer.get("permission") != "MANAGE":
            raise SystemExit(
                "sharing experiment %r: it exists (id %s) but its declared owner %s does not manage it (%s): another "
                "tenant created it. Share an experiment of %s's own (another name in shareExperiment), or have the "
                "platform admin delete or rename the other one" % (name, exp["experiment_id"], owner, answer.get("permission"), owner))
        exp_id = exp["experiment_id"]
    elif body.get("error_code") == "RESOURCE_DOES_NOT_EXIST":
        status, answer = mlflow("POST", u["uri"], "/api/2.0/mlflow/experiments/create", auth, {"name": name})
        if status != 200:
            raise SystemExit("sharing experiment %r: creating it: HTTP %s %s" % (name, status, answer))
        exp_id = answer["experiment_id"]
        log("created experiment", name, "(%s)" % exp_id, "for", owner)
        grants.append((owner, "MANAGE"))
    else:
        raise SystemExit("sharing experiment %r: looking it up: HTTP %s %s" % (name, status, body))
    grants += [(r, "READ") for r in x["readers"]]
    for username, permission in grants:
        body = {"username": username, "resource_type": "experiment", "resource_id": exp_id, "permission": permission}
        status, answer = mlflow("POST", u["uri"], "/api/3.0/mlflow/users/permissions/grant", auth, body)
        if status != 200:
            raise SystemExit("granting %s on experiment %s (%s) to %s: HTTP %s %s" % (permission, name, exp_id, username, status, answer))
        log("granted", permission, "on experiment", name, "(%s)" % exp_id, "to", username)


def main():
    configure()
    for step in (generate, databases, compose, copy, restart, bucket, users):
        step()
    log("done")


if __name__ == "__main__":
    main()
