// Structured logs; the host scrubs secrets and caps records per call.

import { write } from "patchbay:connector/log@0.1.4";

type Fields = Record<string, string | number | boolean>;

function fields(extra: Fields = {}) {
  return Object.entries(extra).map(([key, value]) => ({ key, value: String(value) }));
}

export const debug = (message: string, extra?: Fields) => write("debug", message, fields(extra));
export const info = (message: string, extra?: Fields) => write("info", message, fields(extra));
export const warn = (message: string, extra?: Fields) => write("warn", message, fields(extra));
export const error = (message: string, extra?: Fields) => write("error", message, fields(extra));
