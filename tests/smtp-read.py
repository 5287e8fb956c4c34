"""Reads a received message with Python's own e-mail parser and prints what
a mail client would show, as JSON: the headers (decoded), the text and HTML
bodies, and each attachment's name, type and bytes (base64).

    python smtp-read.py MESSAGE.eml
"""
import base64
import email
import email.policy
import json
import sys

with open(sys.argv[1], "rb") as f:
    message = email.message_from_binary_file(f, policy=email.policy.default)

text = message.get_body(("plain",))
html = message.get_body(("html",))
print(
    json.dumps(
        {
            "headers": {name: str(message[name]) for name in message.keys()},
            "defects": [str(d) for d in message.defects],
            "content-type": message.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "attachments": [
                {
                    "filename": part.get_filename(),
                    "content-type": part.get_content_type(),
                    "data": base64.b64encode(part.get_content()).decode(),
                }
                for part in message.iter_attachments()
            ],
        }
    )
)
