#!/usr/bin/env python3
"""mlplatform credentials bootstrap, run by the bootstrap Job in the MLflow image (Python 3 and boto3,
nothing else needed). It reads a plan (JSON, synthesized by MlPlatform) and:

1. creates each "generate" Secret when it is absent, with random hex values (never replaced, so
   passwords survive re-runs);
2. writes each "compose" Secret from templates over other Secrets' values
   ("{{secret:NAMESPACE/NAME:KEY}}", "|url" to percent-encode, "|ini" to escape "%" for
   configparser), replacing it, so derived values such as the backend store URI follow their sources;
3. copies "copy" Secrets into tenant namespaces;
4. creates the bucket on the embedded object store (waiting until it answers);
5. creates one MLflow user per tenant (basic auth), waiting for the tracking server, and keeps
   its password in a Secret of the tenant namespace.

It talks to the Kubernetes API with the pod's ServiceAccount token. K8S_API, SA_DIR and PLAN
override the API URL, token folder and plan path (used by the tests)."""
import base64, json, os, re, secrets, ssl, time, urllib.error, urllib.parse, urllib.request

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


def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(API + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
            return r.status, parse(r.read())
    except urllib.error.HTTPError as e:
        return e.code, parse(e.read())


def secret_path(ns, name=None):
    return "/api/v1/namespaces/%s/secrets" % ns + ("/" + name if name else "")


def read_secret(ns, name):
    status, body = api("GET", secret_path(ns, name))
    if status == 404:
        return None
    if status != 200:
        raise SystemExit("reading secret %s/%s: HTTP %s %s" % (ns, name, status, body.get("message")))
    return {k: base64.b64decode(v).decode() for k, v in (body.get("data") or {}).items()}


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
    if create_secret(ns, name, data, labels):
        return "created"
    status, body = api("PUT", secret_path(ns, name), manifest(ns, name, data, labels))
    if status != 200:
        raise SystemExit("replacing secret %s/%s: HTTP %s %s" % (ns, name, status, body.get("message")))
    return "replaced"


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


def generate():
    for s in PLAN.get("generate", []):
        if read_secret(s["namespace"], s["name"]) is not None:
            log("kept", s["namespace"] + "/" + s["name"])
            continue
        data = {k: (v["value"] if "value" in v else secrets.token_hex(v["randomBytes"])) for k, v in s["keys"].items()}
        created = create_secret(s["namespace"], s["name"], data, PLAN["labels"])
        log("generated" if created else "kept (created concurrently)", s["namespace"] + "/" + s["name"])


def compose():
    for s in PLAN.get("compose", []):
        data = {k: render(t) for k, t in s["keys"].items()}
        log(write_secret(s["namespace"], s["name"], data, PLAN["labels"]), s["namespace"] + "/" + s["name"])


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
    req = urllib.request.Request(uri + path, data=json.dumps(body).encode(), method=method)
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
        if existing is None:
            create_secret(ns, name, {"username": user["username"], "password": password}, PLAN["labels"])
            log("stored credentials", ns + "/" + name)


def main():
    configure()
    for step in (generate, compose, copy, bucket, users):
        step()
    log("done")


if __name__ == "__main__":
    main()
