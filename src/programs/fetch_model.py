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
import urllib.parse

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


def denied(uri, e):
    """What to do when the tracking server refused the download, or None for any other failure.

    - HTTP 403 from the artifact proxy (`/api/2.0/mlflow-artifacts/...`, a requests HTTPError raised by
      mlflow/store/artifact/http_artifact_repo.py): the version's files were logged through the tracking
      server, and MLflow's auth checks READ on the run's experiment, whose id leads the artifact path
      (mlflow/server/auth/__init__.py `_get_permission_from_experiment_id_artifact_proxy`) — a READ
      grant on the registered model does not cover it;
    - PERMISSION_DENIED from the registry (an MlflowException): the registered model is not shared."""
    user = os.environ.get("MLFLOW_TRACKING_USERNAME") or "(none)"
    response = getattr(e, "response", None)
    url = getattr(response, "url", None) or ""
    if getattr(response, "status_code", None) == 403 and "/mlflow-artifacts/artifacts" in url:
        parts = urllib.parse.urlsplit(url)
        path = urllib.parse.parse_qs(parts.query).get("path", [""])[0] or urllib.parse.unquote(parts.path.split("/mlflow-artifacts/artifacts/", 1)[-1])
        experiment = path.strip("/").split("/")[0] or "?"
        return ("the tracking server refused MLflow user %s the files of %s (HTTP 403 from its artifact proxy for %s): they were "
                "logged through the tracking server into experiment %s, and MLflow asks for READ on that experiment, which a shared "
                "registered model does not give. Share the experiment with this tenant: "
                "platform.shareExperiment('<experiment name>', { owner: '<its tenant>', readers: ['%s'] }); or register versions "
                "from s3:// sources (TrainingPipeline registration steps), which the endpoint reads with its own store identity"
                % (user, uri, path, experiment, user))
    if getattr(e, "error_code", None) == "PERMISSION_DENIED":
        return ("the tracking server refused MLflow user %s the model %s (PERMISSION_DENIED): share the registered model with "
                "this tenant: platform.shareRegisteredModel('<model name>', { owner: '<its tenant>', readers: ['%s'] })" % (user, uri, user))
    return None


def fetch(uri, dst, staging, download):
    """Downloads `uri` with `download` (mlflow.artifacts.download_artifacts) and moves it to `dst`;
    returns the names in `dst`."""
    for p in (dst, staging):
        shutil.rmtree(p, ignore_errors=True)
    try:
        src = download(artifact_uri=uri, dst_path=staging)
    except Exception as e:
        why = denied(uri, e)
        if why is None:
            raise
        raise SystemExit(why) from e
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
