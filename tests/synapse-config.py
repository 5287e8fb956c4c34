"""Turns Synapse's generated config into one for tests: a client listener
on 127.0.0.1 only (the port given), no federation key servers, rate limits
raised so tests are not throttled, logs to a file in the config's folder.

    python synapse-config.py hs.yaml PORT
"""
import os
import sys

import yaml

path, port = sys.argv[1], int(sys.argv[2])
folder = os.path.dirname(os.path.abspath(path))
with open(path) as f:
    config = yaml.safe_load(f)
config["listeners"] = [
    {
        "port": port,
        "bind_addresses": ["127.0.0.1"],
        "type": "http",
        "tls": False,
        "x_forwarded": False,
        "resources": [{"names": ["client"], "compress": False}],
    }
]
config["trusted_key_servers"] = []
config["suppress_key_server_warning"] = True
config["enable_registration"] = False
config["report_stats"] = False
fast = {"per_second": 1000, "burst_count": 1000}
for limit in ["rc_message", "rc_registration", "rc_joins_per_room", "rc_invites", "rc_3pid_validation", "rc_admin_redaction"]:
    config[limit] = dict(fast) if limit != "rc_invites" else {"per_room": fast, "per_user": fast, "per_issuer": fast}
config["rc_login"] = {"address": fast, "account": fast, "failed_attempts": fast}
config["rc_joins"] = {"local": fast, "remote": fast}
log_config = os.path.join(folder, "log.yaml")
with open(log_config, "w") as f:
    yaml.safe_dump(
        {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "filename": os.path.join(folder, "synapse.log"), "formatter": "plain"}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        },
        f,
    )
config["log_config"] = log_config
with open(path, "w") as f:
    yaml.safe_dump(config, f)
