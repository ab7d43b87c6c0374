"""MLflow's own client against the tracking server started from the synthesized Deployment.
Credentials come from MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (MLflow's basic-auth
client variables). Prints one JSON object.

  mlflow_client.py log EXPERIMENT PAYLOAD_FILE [MODEL]  create (or reuse) EXPERIMENT, log a run with
                                                         a param, a metric and PAYLOAD_FILE as an
                                                         artifact (through --serve-artifacts); with
                                                         MODEL, register the artifact as a version
  mlflow_client.py fetch RUN_ID PATH                     download a run's artifact, print its sha256
  mlflow_client.py try-log RUN_ID                        try to log a metric to someone else's run
"""
import hashlib
import json
import os
import sys
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


def log(experiment, payload, model=None):
    exp = mlflow.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp else mlflow.create_experiment(experiment)
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_param("lr", "0.01")
        mlflow.log_metric("loss", 0.25, step=1)
        mlflow.log_artifact(payload, artifact_path="model")
    out = {"experiment_id": exp_id, "run_id": run.info.run_id, "artifact_uri": run.info.artifact_uri}
    if model:
        client = MlflowClient()
        try:
            client.create_registered_model(model)
        except MlflowException as e:
            if e.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        mv = client.create_model_version(model, source="%s/model" % run.info.artifact_uri, run_id=run.info.run_id)
        out["model_version"] = mv.version
        out["model_source"] = mv.source
    print(json.dumps(out))


def fetch(run_id, path):
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=d)
        print(json.dumps({"sha256": hashlib.sha256(open(local, "rb").read()).hexdigest()}))


def try_log(run_id):
    try:
        MlflowClient().log_metric(run_id, "intruder", 1.0)
        print(json.dumps({"ok": True}))
    except MlflowException as e:
        print(json.dumps({"ok": False, "error_code": e.error_code, "message": str(e)[:300]}))


cmd = sys.argv[1]
if cmd == "log":
    log(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
elif cmd == "fetch":
    fetch(sys.argv[2], sys.argv[3])
elif cmd == "try-log":
    try_log(sys.argv[2])
else:
    raise SystemExit("unknown command %s" % cmd)
