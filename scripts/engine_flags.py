#!/usr/bin/env python3
"""Extract the command-line flags of a vLLM and an SGLang release from their source.

Reads the Python source of the two packages (unpacked wheels; nothing is imported or run) with
the `ast` module and writes the flag names, whether each takes a value, and the allowed values
of flags with fixed choices, as JSON. The gpuplan test `engine_flags` parses every emitted
launch command against that file.

Usage:
    pip download vllm==0.33.0 sglang==0.5.23 --no-deps --only-binary :all: -d wheels
    unzip -q wheels/vllm-*.whl 'vllm/*' -d src && unzip -q wheels/sglang-*.whl 'sglang/*' -d src
    python3 scripts/engine_flags.py src > crates/gpuplan/tests/data/engine_flags.json

How the engines build their parsers (what this script mirrors):
- vLLM: `EngineArgs.add_cli_args` (vllm/engine/arg_utils.py) calls `add_argument("--name",
  **group_kwargs["field"])` where `group_kwargs = get_kwargs(SomeConfig)`; a field typed `bool`
  becomes a BooleanOptionalAction (`--x` and `--no-x`), a `Literal[...]` field (or alias)
  becomes `choices`. Front-end flags are the dataclass fields of `BaseFrontendArgs` and
  `FrontendArgs` (vllm/entrypoints/common/cli_args.py), plus explicit `add_argument` calls.
- SGLang: `ServerArgs.add_cli_args` registers every `A[T, Arg(...)]` / `A[T, "help"]` field of
  the namespaces in sglang/srt/arg_groups/fields/ (`--field-name` or `cli_name`, plus
  `aliases`; `bool` is store_true; `Literal` or `Arg(choices=...)` gives choices; `no_cli=True`
  is skipped), then a few explicit `add_argument` calls in sglang/srt/server_args.py.
"""

import ast
import json
import re
import sys
from pathlib import Path

NO_VALUE_ACTIONS = {
    "store_true",
    "store_false",
    "BooleanOptionalAction",
    "DeprecatedStoreTrueAction",
    "count",
    "help",
    "version",
}


def parse(path):
    return ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))


def literal_aliases(root):
    """Module-level `Name = Literal[...]` and `NAME = [str, ...]` assignments of a package."""
    lits, lists = {}, {}
    for f in Path(root).rglob("*.py"):
        try:
            tree = parse(f)
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in tree.body:
            targets, value = [], None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            for t in targets:
                if not isinstance(t, ast.Name):
                    continue
                vals = literal_values(value, {})
                if vals is not None:
                    lits.setdefault(t.id, vals)
                elif isinstance(value, (ast.List, ast.Tuple)):
                    strs = [e.value for e in value.elts if isinstance(e, ast.Constant)]
                    if strs and len(strs) == len(value.elts):
                        lists.setdefault(t.id, strs)
    return lits, lists


def literal_values(node, aliases):
    """The values of a `Literal[...]` annotation (through unions and known aliases)."""
    if node is None:
        return None
    if isinstance(node, ast.Subscript):
        base = node.value
        name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
        if name == "Literal":
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            vals = [e.value for e in elts if isinstance(e, ast.Constant)]
            return vals if len(vals) == len(elts) else None
        if name in ("Optional", "Union", "Annotated"):
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for e in elts:
                v = literal_values(e, aliases)
                if v is not None:
                    return v
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return literal_values(node.left, aliases) or literal_values(node.right, aliases)
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        return aliases.get(node.attr)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return literal_values(ast.parse(node.value, mode="eval").body, aliases)
        except SyntaxError:
            return None
    return None


def is_bool(node):
    """True for `bool`, `bool | None`, `Optional[bool]` (not `bool | str`)."""
    names = set()

    def walk(n):
        if isinstance(n, ast.Name):
            names.add(n.id)
        elif isinstance(n, ast.Constant):
            names.add(repr(n.value))
        elif isinstance(n, ast.BinOp):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, ast.Subscript):
            base = n.value.id if isinstance(n.value, ast.Name) else None
            if base == "Optional":
                walk(n.slice)
            else:
                names.add(base or "?")
        else:
            names.add("?")

    walk(node)
    names.discard("None")
    return names == {"bool"}


def class_fields(root):
    """Class name -> {field name: annotation} for every class in a package."""
    out = {}
    for f in Path(root).rglob("*.py"):
        try:
            tree = parse(f)
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                fields = out.setdefault(node.name, {})
                for st in node.body:
                    if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
                        fields.setdefault(st.target.id, st.annotation)
    return out


def kw(call, name):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def action_name(node):
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return "?"


def add_flag(flags, name, takes_value, choices=None):
    entry = flags.setdefault(name, {"takes_value": takes_value})
    entry["takes_value"] = entry["takes_value"] or takes_value
    if choices is not None:
        entry["choices"] = sorted({str(c) for c in choices if c is not None})


def explicit_add_argument(flags, tree, lists):
    """`add_argument("--x", action=..., choices=[...])` calls with literal names."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"):
            continue
        names = [a.value for a in node.args if isinstance(a, ast.Constant)]
        names = [n for n in names if isinstance(n, str) and n.startswith("--")]
        if not names or any(k.arg is None for k in node.keywords):
            continue
        act = action_name(kw(node, "action"))
        takes = act not in NO_VALUE_ACTIONS and not (act or "").startswith("DeprecatedStoreTrue")
        if act == "DeprecatedStoreConstAction":
            takes = True
        ch = kw(node, "choices")
        choices = None
        if isinstance(ch, (ast.List, ast.Tuple, ast.Set)):
            vals = [e.value for e in ch.elts if isinstance(e, ast.Constant)]
            if len(vals) == len(ch.elts):
                choices = vals
        elif isinstance(ch, ast.Name) and ch.id in lists:
            choices = lists[ch.id]
        for n in names:
            add_flag(flags, n, takes, choices)
            if act == "BooleanOptionalAction":
                add_flag(flags, "--no-" + n[2:], False)


def vllm_flags(root):
    pkg = Path(root) / "vllm"
    lits, lists = literal_aliases(pkg)
    classes = class_fields(pkg)
    flags = {}
    arg_utils = parse(pkg / "engine" / "arg_utils.py")
    # group kwargs variables: name -> config class
    kw_class = {}
    for node in ast.walk(arg_utils):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", "") == "get_kwargs"
            and node.value.args
            and isinstance(node.value.args[0], ast.Name)
        ):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    kw_class[t.id] = node.value.args[0].id
    for node in ast.walk(arg_utils):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"):
            continue
        names = [a.value for a in node.args if isinstance(a, ast.Constant)]
        names = [n for n in names if isinstance(n, str) and n.startswith("-")]
        star = [k.value for k in node.keywords if k.arg is None]
        if not names or not star:
            continue
        sub = star[0]
        if isinstance(sub, ast.Dict):
            # `**{**group_kwargs["field"], "default": None}`
            inner = [v for k, v in zip(sub.keys, sub.values) if k is None]
            if not inner:
                continue
            sub = inner[0]
        if not (
            isinstance(sub, ast.Subscript)
            and isinstance(sub.value, ast.Name)
            and isinstance(sub.slice, ast.Constant)
        ):
            continue
        cls = kw_class.get(sub.value.id)
        ann = classes.get(cls, {}).get(sub.slice.value)
        if ann is None:
            # EngineArgs' own field (same name); fall back to its annotation.
            ann = classes.get("EngineArgs", {}).get(sub.slice.value)
        boolean = ann is not None and is_bool(ann)
        choices = None if boolean else literal_values(ann, lits)
        for n in names:
            if not n.startswith("--"):
                continue
            add_flag(flags, n, not boolean, choices)
            if boolean:
                add_flag(flags, "--no-" + n[2:], False)
    explicit_add_argument(flags, arg_utils, lists)
    cli = pkg / "entrypoints" / "common" / "cli_args.py"
    cli_tree = parse(cli)
    for cls in ("BaseFrontendArgs", "FrontendArgs"):
        for field, ann in classes.get(cls, {}).items():
            if field.startswith("_"):
                continue
            n = "--" + field.replace("_", "-")
            boolean = is_bool(ann)
            add_flag(flags, n, not boolean, None if boolean else literal_values(ann, lits))
            if boolean:
                add_flag(flags, "--no-" + n[2:], False)
    explicit_add_argument(flags, cli_tree, lists)
    version = re.search(r"__version__ = version = '([^']+)'", (pkg / "_version.py").read_text())
    commit = re.search(r"__commit_id__ = commit_id = '([^']+)'", (pkg / "_version.py").read_text())
    return {
        "version": version.group(1),
        "commit": commit.group(1) if commit else None,
        "command": "vllm serve MODEL",
        "sources": [
            "vllm/engine/arg_utils.py (EngineArgs.add_cli_args)",
            "vllm/entrypoints/common/cli_args.py (BaseFrontendArgs, FrontendArgs)",
            "vllm/config/*.py (field types: bool, Literal choices)",
        ],
        "flags": dict(sorted(flags.items())),
    }


def sglang_flags(root):
    pkg = Path(root) / "sglang"
    lits, lists = literal_aliases(pkg / "srt")
    flags = {}
    for f in sorted((pkg / "srt" / "arg_groups" / "fields").glob("*.py")):
        for node in ast.walk(parse(f)):
            if not isinstance(node, ast.ClassDef):
                continue
            for st in node.body:
                if not (isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)):
                    continue
                ann = st.annotation
                if not (
                    isinstance(ann, ast.Subscript)
                    and isinstance(ann.value, ast.Name)
                    and ann.value.id == "A"
                    and isinstance(ann.slice, ast.Tuple)
                    and len(ann.slice.elts) >= 2
                ):
                    continue
                typ, meta = ann.slice.elts[0], ann.slice.elts[1]
                arg = None
                if isinstance(meta, ast.Call) and getattr(meta.func, "id", "") == "Arg":
                    arg = meta
                elif not (isinstance(meta, (ast.Constant, ast.JoinedStr, ast.BinOp))):
                    continue
                if arg is not None:
                    no_cli = kw(arg, "no_cli")
                    if isinstance(no_cli, ast.Constant) and no_cli.value is True:
                        continue
                cli_name = kw(arg, "cli_name") if arg is not None else None
                name = (
                    cli_name.value
                    if isinstance(cli_name, ast.Constant)
                    else "--" + st.target.id.replace("_", "-")
                )
                names = [name]
                aliases = kw(arg, "aliases") if arg is not None else None
                if isinstance(aliases, (ast.List, ast.Tuple)):
                    names += [e.value for e in aliases.elts if isinstance(e, ast.Constant)]
                act = action_name(kw(arg, "action")) if arg is not None else None
                choices = None
                ch = kw(arg, "choices") if arg is not None else None
                if isinstance(ch, (ast.List, ast.Tuple)):
                    vals = [e.value for e in ch.elts if isinstance(e, ast.Constant)]
                    if len(vals) == len(ch.elts):
                        choices = vals
                elif isinstance(ch, ast.Name):
                    choices = lists.get(ch.id) or lits.get(ch.id)
                if choices is None:
                    choices = literal_values(typ, lits)
                if act is not None:
                    takes = act not in NO_VALUE_ACTIONS
                else:
                    takes = not is_bool(typ)
                for n in names:
                    add_flag(flags, n, takes, choices if takes else None)
    explicit_add_argument(flags, parse(pkg / "srt" / "server_args.py"), lists)
    version = re.search(r"__version__ = version = '([^']+)'", (pkg / "_version.py").read_text())
    return {
        "version": version.group(1),
        "commit": None,
        "command": "python -m sglang.launch_server",
        "sources": [
            "sglang/srt/arg_groups/fields/*.py (A[T, Arg(...)] fields)",
            "sglang/srt/arg_groups/choices.py (choice lists)",
            "sglang/srt/server_args.py (ServerArgs.add_cli_args explicit flags)",
        ],
        "flags": dict(sorted(flags.items())),
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    out = {
        "about": "Command-line flags of pinned engine releases, extracted from their argument "
        "definitions by scripts/engine_flags.py (facts only: names, whether a value follows, "
        "allowed values). Source: the PyPI wheels vllm-0.33.0-cp38-abi3-manylinux_2_28_x86_64 "
        "and sglang-0.5.23-cp311-cp311-manylinux_2_34_x86_64.",
        "vllm": vllm_flags(root),
        "sglang": sglang_flags(root),
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
