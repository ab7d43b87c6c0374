"""mlplatform step I/O: moves a pipeline step's inputs and outputs between the platform's object
store and the pod's volumes, with the step's own store credentials (the pod's ServiceAccount role
on AWS, or the platform store's keys from the files AWS_*_FILE name). Runs in the MLflow image (Python 3, boto3).

    step_io.py prepare [--fifo PATH] [DEST=s3://bucket/key ...]
        Init container. Creates the FIFO through which the node wrapper (step_node.sh) reports the
        exit status of a multi-node step's command, then pulls each input into DEST:
        - `s3://bucket/prefix/` (trailing slash: a bucket dataset) lists exactly `prefix/` and gets
          every object under it;
        - `s3://bucket/key` (an earlier step's output, at the key its node reported) lists `key/` and
          gets every object under it (a directory output), or, when there is none, gets the object
          `key` itself (a file output, or an archive).
        It never asks for an object it has not seen listed except `key` itself, so a missing input
        never depends on how the store answers for a missing object (403 or 404).

    step_io.py push --wait FIFO --index N SRC=s3://bucket/key ...
        Container beside the node. Waits until the node's command has ended (end of file on the
        FIFO), then, when it succeeded and N is 0 (the node of completion index 0, whose rank-0
        process writes the outputs), uploads each SRC: a directory file by file under `key/`
        (as Argo's S3 driver does for `archive: none`), a file as the object `key`.

Calls made (and so the IAM actions needed): ListObjectsV2 (s3:ListBucket with s3:prefix = the
listed prefix), GetObject (s3:GetObject), and for uploads boto3's upload_file: PutObject, or above
its 8 MiB multipart threshold CreateMultipartUpload, UploadPart, CompleteMultipartUpload
(s3:PutObject) and AbortMultipartUpload on failure (s3:AbortMultipartUpload).
"""
import os
import signal
import stat
import sys

CHUNK = 1024 * 1024


def log(message):
    print(f"[step-io] {message}", flush=True)


def on_term(signum, frame):
    log("terminated")
    sys.exit(143)


def store_keys(environ):
    """The store keys from the files AWS_ACCESS_KEY_ID_FILE/AWS_SECRET_ACCESS_KEY_FILE name (mounted
    Secret keys: src/cdk8s/private/pipeline-pod.ts), for boto3's client; none: boto3's own chain
    (the pod's workload identity on AWS)."""
    keys = {}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        path = environ.get(name + "_FILE")
        if path:
            with open(path, encoding="utf-8") as f:
                keys[name.lower()] = f.read()
    return keys


def client():
    import boto3

    # boto3 reads AWS_ENDPOINT_URL_S3 itself only from 1.28 on: pass it explicitly.
    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or None, **store_keys(os.environ))


def split_uri(uri):
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri}")
    return bucket, key


def pairs(args):
    out = []
    for arg in args:
        local, sep, uri = arg.partition("=")
        if not sep or not local.startswith("/"):
            raise ValueError(f"expected /local/path=s3://bucket/key, got {arg!r}")
        out.append((local, uri))
    return out


def safe_join(root, relative):
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"refusing object name {relative!r} (empty or with '..')")
    return os.path.join(root, *parts)


def listed(s3, bucket, prefix):
    """Keys under `prefix`, all pages (ListObjectsV2), without folder markers (keys ending with '/')."""
    keys = []
    token = None
    while True:
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        keys.extend(o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/"))
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


def get(s3, bucket, key, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with open(path, "wb") as f:
        while True:
            chunk = body.read(CHUNK)
            if not chunk:
                break
            f.write(chunk)


def pull(s3, dest, uri):
    bucket, key = split_uri(uri)
    prefix = key if key.endswith("/") else f"{key}/"
    keys = listed(s3, bucket, prefix)
    for k in keys:
        get(s3, bucket, k, safe_join(dest, k[len(prefix):]))
    if keys:
        log(f"{uri}: {len(keys)} object(s) into {dest}")
        return
    if key.endswith("/"):
        raise SystemExit(f"[step-io] {uri}: no object under this prefix")
    try:
        get(s3, bucket, key, dest)
    except Exception as e:  # botocore's ClientError: NoSuchKey, or AccessDenied where a missing key's GET is refused
        code = (getattr(e, "response", None) or {}).get("Error", {}).get("Code", type(e).__name__)
        raise SystemExit(f"[step-io] {uri}: no object under {prefix} and the object itself could not be read ({code}); "
                         "did the step that writes this output write it?") from e
    log(f"{uri}: one object into {dest}")


def put(s3, src, uri):
    bucket, key = split_uri(uri)
    key = key.rstrip("/")
    if os.path.isdir(src):
        count = 0
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                if os.path.islink(path):
                    continue  # as Argo's PutDirectory: symlinks are not uploaded
                relative = os.path.relpath(path, src).replace(os.sep, "/")
                s3.upload_file(path, bucket, f"{key}/{relative}")
                count += 1
        log(f"{src}: {count} file(s) to s3://{bucket}/{key}/")
    elif os.path.isfile(src):
        s3.upload_file(src, bucket, key)
        log(f"{src}: to s3://{bucket}/{key}")
    else:
        raise SystemExit(f"[step-io] output {src} was not written (the step must write it under $MLPLATFORM_OUTPUTS)")


def make_fifo(path):
    try:
        os.mkfifo(path, 0o600)
    except FileExistsError:
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            raise
    log(f"FIFO {path}")


def wait_for_node(path):
    """The node command's exit status, or None when the wrapper ended without reporting one."""
    with open(path, "r") as f:  # blocks until the wrapper opens it for writing
        text = f.read().strip()  # end of file once the wrapper (and only it holds the FIFO) is gone
    return int(text) if text.lstrip("-").isdigit() else None


def main(argv):
    signal.signal(signal.SIGTERM, on_term)
    if not argv or argv[0] not in ("prepare", "push"):
        raise SystemExit("usage: step_io.py prepare [--fifo PATH] [DEST=URI ...] | push --wait FIFO --index N SRC=URI ...")
    command, args = argv[0], list(argv[1:])
    options = {}
    while args and args[0].startswith("--"):
        if len(args) < 2:
            raise SystemExit(f"[step-io] {args[0]} needs a value")
        options[args[0]] = args[1]
        args = args[2:]
    items = pairs(args)
    if command == "prepare":
        if "--fifo" in options:
            make_fifo(options["--fifo"])
        if items:
            s3 = client()
            for dest, uri in items:
                pull(s3, dest, uri)
        return 0
    status = wait_for_node(options["--wait"])
    if status != 0:
        log(f"the node's command ended with {status if status is not None else 'no status'}: nothing uploaded")
        return 0
    index = options.get("--index", "0")
    if index != "0":
        log(f"node {index}: the outputs are uploaded by node 0")
        return 0
    s3 = client()
    for src, uri in items:
        put(s3, src, uri)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
