#!/usr/bin/env bash
# Italy stores an irregular crossing, Germany's application hits it, Italy reads its dataset
# back, and Germany may not. Needs ABIS_URL, IT_KEY and DE_KEY (officer keys) and `abis`.
set -euo pipefail
T=$(mktemp -d)
abis sample --member-state IT --category 2 --person 11 --capture 1 --fresh > "$T/it.json"
abis sample --member-state DE --category 1 --person 11 --capture 2 --fresh > "$T/de.json"
REF=$(sed -E 's/.*"reference_number":"([^"]+)".*/\1/' "$T/it.json")

# 1. Italy: category 2, stored (201), no hit
curl -sS -H "Authorization: Bearer $IT_KEY" -H 'content-type: application/json' \
     -d @"$T/it.json" "$ABIS_URL/v1/transmissions"
echo
# 2. Germany: category 1, a hit on Italy's dataset, responsibility IT
curl -sS -H "Authorization: Bearer $DE_KEY" -H 'content-type: application/json' \
     -d @"$T/de.json" "$ABIS_URL/v1/transmissions"
echo
# 3. Italy reads its dataset back
curl -sS -H "Authorization: Bearer $IT_KEY" "$ABIS_URL/v1/datasets/$REF"
echo
# 4. Germany may not: 404, exactly as for a dataset that does not exist
curl -sS -H "Authorization: Bearer $DE_KEY" "$ABIS_URL/v1/datasets/$REF"
echo
rm -r "$T"
