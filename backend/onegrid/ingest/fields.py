"""Field defaults shared by the grid and place imports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from onegrid.errors import InvalidInput

DEFAULT_NAME_FIELD = "name"


def read_with_default_name(
    reader: Callable[..., Any], path: Path, name_field: str | None, **options: Any
) -> Any:
    """Read with the user's name field, else `name` when the file has one, else no names.

    A name field the user asked for must exist; the default may be absent (the code is then
    used as the name).
    """
    if name_field:
        return reader(path, name_field=name_field, **options)
    try:
        return reader(path, name_field=DEFAULT_NAME_FIELD, **options)
    except InvalidInput as error:
        if error.field != "name_field":
            raise
        return reader(path, name_field=None, **options)
