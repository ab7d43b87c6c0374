"""Probes for the tenancy test (tenancy.test.ts), run with the tier's Python (boto3, MLflow 3.17.2).
Prints one JSON value, last.

  tenancy_probe.py s3 ENDPOINT BUCKET ACCESS_KEY SECRET_KEY OPS_JSON
      runs each operation of OPS_JSON (a list of {"op": "put"|"get"|"list", "key"|"prefix": ...}) with
      boto3 and these keys; prints, per operation, {"ok": true, ...} or {"ok": false, "code": <S3 error
      code>, "status": <HTTP status>}. A list answers its keys, a get its body.
  tenancy_probe.py download URI
      downloads URI (e.g. models:/NAME/1) with MLflow's client (MLFLOW_TRACKING_* from the environment);
      prints {"ok": true, "files": {relative path: sha256}} or {"ok": false, "error": ...}.
"""
import hashlib
import json
import os
import sys
import tempfile


def s3(endpoint, bucket, access_key, secret_key, ops):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access_key,
                          aws_secret_access_key=secret_key, config=Config(retries={"max_attempts": 1}))
    out = []
    for o in ops:
        try:
            if o["op"] == "put":
                client.put_object(Bucket=bucket, Key=o["key"], Body=o.get("body", "probe").encode())
                out.append({"ok": True})
            elif o["op"] == "get":
                body = client.get_object(Bucket=bucket, Key=o["key"])["Body"].read().decode("utf-8", "replace")
                out.append({"ok": True, "body": body})
            elif o["op"] == "list":
                r = client.list_objects_v2(Bucket=bucket, Prefix=o.get("prefix", ""))
                out.append({"ok": True, "keys": sorted(c["Key"] for c in r.get("Contents", []))})
            else:
                raise SystemExit("unknown op %r" % o["op"])
        except ClientError as e:
            out.append({"ok": False, "code": e.response.get("Error", {}).get("Code"),
                        "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")})
    print(json.dumps(out))


def download(uri):
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as d:
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=d)
        except MlflowException as e:
            print(json.dumps({"ok": False, "error": e.error_code, "message": str(e)[:300]}))
            return
        except Exception as e:  # e.g. requests' HTTPError from the artifact proxy
            print(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e)[:300]}))
            return
        files = {}
        for root, _, names in os.walk(local):
            for n in names:
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    files[os.path.relpath(p, local)] = hashlib.sha256(f.read()).hexdigest()
        print(json.dumps({"ok": True, "files": files}))


cmd = sys.argv[1]
if cmd == "s3":
    s3(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], json.loads(sys.argv[6]))
elif cmd == "download":
    download(sys.argv[2])
else:
    raise SystemExit("unknown command %s" % cmd)
