"""The fetch step of a ModelEndpoint version (its `fetch-model` init container, run by the MLflow image as
`python -c`): download MODEL_URI with MLflow into MODEL_STAGING, then move it to MODEL_DIR (a single file
lands inside it). For a `models:/<name>@<alias>` URI, MLflow asks the tracking server for the version's
source and downloads that source itself (mlflow/store/artifact/models_artifact_repo.py): an `s3://` source
with boto3 and the container's store identity, an `mlflow-artifacts:/` source through the tracking server.

Fails when the source holds no files: MLflow then returns the empty destination folder
(mlflow/store/artifact/artifact_repo.py `download_artifacts`) and the server would start without a model.
Idempotent when the init container restarts (both folders are cleared first).

Credentials arrive as mounted files, their paths in `<VARIABLE>_FILE` (MLFLOW_TRACKING_USERNAME_FILE,
AWS_ACCESS_KEY_ID_FILE, ...; src/cdk8s/private/pod.ts credentialFiles): MLflow's client reads the
tracking user from MLFLOW_TRACKING_USERNAME/PASSWORD (mlflow/utils/credentials.py, or ~/.mlflow/credentials)
and its S3 repository's boto3 reads the AWS_* chain, so they are set here, inside this process only."""
import os
import shutil

CREDENTIALS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def load_credentials(environ):
    """Sets each credential variable from the file its `_FILE` variable names (the file wins)."""
    for name in CREDENTIALS:
        path = environ.get(name + "_FILE")
        if path:
            try:
                with open(path, encoding="utf-8") as f:
                    environ[name] = f.read()
            except OSError as e:
                raise SystemExit("cannot read %s from %s (%s): is the Secret mounted?" % (name, path, e.strerror))


def fetch(uri, dst, staging, download):
    """Downloads `uri` with `download` (mlflow.artifacts.download_artifacts) and moves it to `dst`;
    returns the names in `dst`."""
    for p in (dst, staging):
        shutil.rmtree(p, ignore_errors=True)
    src = download(artifact_uri=uri, dst_path=staging)
    if os.path.isdir(src) and not os.listdir(src):
        raise SystemExit("nothing to download at %s: its source holds no files" % uri)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.isdir(src):
        shutil.move(src, dst)
    else:
        os.makedirs(dst)
        shutil.move(src, dst)
    shutil.rmtree(staging, ignore_errors=True)
    return sorted(os.listdir(dst))


def main():
    load_credentials(os.environ)
    import mlflow.artifacts

    dst = os.environ["MODEL_DIR"]
    names = fetch(os.environ["MODEL_URI"], dst, os.environ["MODEL_STAGING"], mlflow.artifacts.download_artifacts)
    print("model ready in", dst, names)


if __name__ == "__main__":
    main()
