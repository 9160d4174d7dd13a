#!/usr/bin/env python3
# promparse.py — a strict reader of the Prometheus text exposition format 0.0.4, for
# tests/ops.bats: reads the page on stdin and prints it as JSON, {"family": {"type": ...,
# "samples": [[name, {labels}, value], ...]}}, or exits 1 naming the first line it refuses.
# Stricter than Prometheus itself: every sample belongs to a family declared by TYPE (HELP
# optional) before its samples, a family's samples are contiguous, no series twice, counters
# not negative, histograms complete (increasing le buckets, cumulative counts, +Inf equal to
# _count, _sum present), no empty lines, a final newline.
import json, math, re, sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}

def fail(n, line, why):
    sys.exit(f'line {n}: {why}: {line!r}')

def value(s):
    if s in ('+Inf', 'Inf'):
        return math.inf
    if s == '-Inf':
        return -math.inf
    if s == 'NaN':
        return math.nan
    if not re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', s):
        raise ValueError(s)
    return float(s)

def labels(s, n, line):
    out, i = {}, 0
    while i < len(s):
        m = LABEL.match(s, i)
        if not m or s[m.end():m.end() + 2] != '="':
            fail(n, line, 'bad label')
        name, i = m.group(), m.end() + 2
        if name.startswith('__') or name in out:
            fail(n, line, f'label {name} reserved or repeated')
        v = ''
        while True:
            if i >= len(s):
                fail(n, line, 'unterminated label value')
            c = s[i]
            if c == '"':
                i += 1
                break
            if c == '\\':
                e = s[i + 1:i + 2]
                if e not in ('\\', '"', 'n'):
                    fail(n, line, 'bad escape in a label value')
                v += {'n': '\n'}.get(e, e)
                i += 2
                continue
            if c == '\n':
                fail(n, line, 'newline in a label value')
            v += c
            i += 1
        out[name] = v
        if i < len(s):
            if s[i] != ',':
                fail(n, line, 'labels must be separated by commas')
            i += 1
    return out

def family_of(name, fams):
    if name in fams:
        return name
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)] if name.endswith(suffix) else None
        if base and fams.get(base, {}).get('type') in ('histogram', 'summary'):
            return base
    return None

def main():
    text = sys.stdin.read()
    if not text.endswith('\n'):
        sys.exit('the page does not end with a newline')
    fams, order, seen, current = {}, [], set(), None
    for n, line in enumerate(text[:-1].split('\n'), 1):
        if line == '':
            fail(n, line, 'empty line')
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.fullmatch(name):
                    fail(n, line, 'bad metric name')
                f = fams.setdefault(name, {'type': None, 'help': None, 'samples': []})
                if f['samples']:
                    fail(n, line, f'{parts[1]} after samples of {name}')
                key = parts[1].lower()
                if f[key] is not None:
                    fail(n, line, f'second {parts[1]} for {name}')
                if parts[1] == 'TYPE':
                    if len(parts) != 4 or parts[3] not in TYPES:
                        fail(n, line, 'bad type')
                    f['type'] = parts[3]
                else:
                    f['help'] = parts[3] if len(parts) == 4 else ''
            continue
        m = NAME.match(line)
        if not m:
            fail(n, line, 'bad metric name')
        name, rest = m.group(), line[m.end():]
        lab = {}
        if rest.startswith('{'):
            end = rest.find('}')
            while end != -1 and rest[:end].count('"') % 2 == 1:
                end = rest.find('}', end + 1)
            if end == -1:
                fail(n, line, 'unterminated labels')
            lab, rest = labels(rest[1:end], n, line), rest[end + 1:]
        fields = rest.split(' ')
        if fields[0] != '' or len(fields) not in (2, 3):
            fail(n, line, 'expected one space, a value and an optional timestamp')
        try:
            v = value(fields[1])
            if len(fields) == 3 and not re.fullmatch(r'-?\d+', fields[2]):
                raise ValueError(fields[2])
        except ValueError:
            fail(n, line, 'bad value or timestamp')
        fam = family_of(name, fams)
        if fam is None or fams[fam]['type'] is None:
            fail(n, line, 'sample of a family without TYPE')
        if current != fam:
            if fam in order:
                fail(n, line, f'samples of {fam} are not contiguous')
            order.append(fam)
            current = fam
        key = (name, tuple(sorted(lab.items())))
        if key in seen:
            fail(n, line, 'series repeated')
        seen.add(key)
        t = fams[fam]['type']
        if t == 'counter' and not (v >= 0):
            fail(n, line, 'negative counter')
        if t in ('counter', 'gauge', 'untyped') and name != fam:
            fail(n, line, f'a {t} sample must be named {fam}')
        if t == 'histogram' and name == fam + '_bucket' and 'le' not in lab:
            fail(n, line, 'bucket without le')
        fams[fam]['samples'].append([name, lab, v])
    for fam, f in fams.items():
        if f['type'] == 'histogram':
            check_histogram(fam, f['samples'])
    json.dump({k: {'type': f['type'], 'samples': f['samples']} for k, f in fams.items()},
              sys.stdout, default=str)

def check_histogram(fam, samples):
    groups = {}
    for name, lab, v in samples:
        rest = tuple(sorted((k, x) for k, x in lab.items() if k != 'le'))
        g = groups.setdefault(rest, {'buckets': [], 'sum': None, 'count': None})
        if name == fam + '_bucket':
            g['buckets'].append((value(lab['le']), v))
        elif name == fam + '_sum':
            g['sum'] = v
        elif name == fam + '_count':
            g['count'] = v
    for rest, g in groups.items():
        les = [le for le, _ in g['buckets']]
        counts = [c for _, c in g['buckets']]
        if not les or les[-1] != math.inf:
            sys.exit(f'{fam}{dict(rest)}: no +Inf bucket')
        if les != sorted(set(les)) or counts != sorted(counts):
            sys.exit(f'{fam}{dict(rest)}: buckets not increasing or not cumulative')
        if g['sum'] is None or g['count'] is None or g['count'] != counts[-1]:
            sys.exit(f'{fam}{dict(rest)}: _sum/_count missing, or _count != +Inf bucket')

main()
