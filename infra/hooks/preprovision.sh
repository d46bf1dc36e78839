#!/bin/sh
# azd preprovision hook (azure.yaml): makes sure the azd environment holds the deployment's two secrets before the
# Bicep deployment reads them through infra/main.parameters.json.
#
#   COLLAB_SIGNING_KEY   Collab:Access:SigningKey, base64 of 48 random bytes. Signs share links and author tags; every
#                        instance uses the same one, and a new value revokes every link ever issued.
#   COLLAB_OPERATOR_KEY  Collab:Operations:OperatorKey, 64 hex characters.
#
# A value already in the environment is kept, never replaced: the key must survive every `azd provision`. A value that
# is present but too weak stops the provision instead of being overwritten; an empty one counts as absent. If azd
# cannot list the environment, or the environment was provisioned before (AZURE_KEY_VAULT_NAME, an output of
# main.bicep, is set) yet has no signing key, the hook fails rather than issue a new key. Values are never printed.
# See docs/deploy.md.
set -eu

# Everything azd holds for this environment, as NAME="value" lines. Failing here must stop the provision: treating
# "could not read" as "absent" would generate a new signing key and revoke every link.
if ! values=$(azd env get-values); then
    echo "preprovision: 'azd env get-values' failed; not touching COLLAB_SIGNING_KEY or COLLAB_OPERATOR_KEY." >&2
    exit 1
fi

has() {
    printf '%s\n' "$values" | grep -q "^$1="
}

# The current value of a variable: from the azd environment, else from this process's environment (a pipeline may
# pass the keys as secret environment variables, which azd also substitutes into main.parameters.json); empty when
# neither has it. Only called with the fixed names below, so the eval sees no outside text.
current() {
    if has "$1"; then azd env get-value "$1"; else eval "printf '%s' \"\${$1:-}\""; fi
}

random_base64() {
    if command -v openssl >/dev/null 2>&1; then
        openssl rand -base64 "$1" | tr -d '\n'
    else
        head -c "$1" /dev/urandom | base64 | tr -d '\n'
    fi
}

random_hex() {
    if command -v openssl >/dev/null 2>&1; then
        openssl rand -hex "$1" | tr -d '\n'
    else
        od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
    fi
}

# Bytes a padded base64 value decodes to; 0 when it is not base64.
decoded_length() {
    if printf '%s' "$1" | grep -Eq '^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$'; then
        printf '%s' "$1" | base64 -d | wc -c | tr -d ' '
    else
        echo 0
    fi
}

key=$(current COLLAB_SIGNING_KEY)
if [ -z "$key" ] && [ -n "$(current AZURE_KEY_VAULT_NAME)" ]; then
    # The environment knows a vault from an earlier provision (for example after `azd env refresh` on another
    # machine), so a signing key exists already. A new one would revoke every link issued with it.
    echo "preprovision: this environment was provisioned before (AZURE_KEY_VAULT_NAME is set) but COLLAB_SIGNING_KEY" >&2
    echo "  is missing. Copy the existing key into it (docs/deploy.md, 'Recovering the keys'), or, to revoke every link" >&2
    echo "  on purpose, set a new one: azd env set COLLAB_SIGNING_KEY \"\$(openssl rand -base64 48)\"" >&2
    exit 1
fi
if [ -z "$key" ]; then
    azd env set COLLAB_SIGNING_KEY "$(random_base64 48)"
    echo "preprovision: COLLAB_SIGNING_KEY generated (48 random bytes) and stored in the azd environment."
else
    length=$(decoded_length "$key")
    if [ "$length" -lt 32 ]; then
        echo "preprovision: COLLAB_SIGNING_KEY is set but is not base64 of at least 32 bytes. Replace it with" >&2
        echo "  azd env set COLLAB_SIGNING_KEY \"\$(openssl rand -base64 48)\"   (this revokes every link issued with the old key)" >&2
        exit 1
    fi
    echo "preprovision: COLLAB_SIGNING_KEY kept."
fi

key=$(current COLLAB_OPERATOR_KEY)
if [ -z "$key" ]; then
    azd env set COLLAB_OPERATOR_KEY "$(random_hex 32)"
    echo "preprovision: COLLAB_OPERATOR_KEY generated (32 random bytes, hex) and stored in the azd environment."
elif [ "${#key}" -lt 16 ]; then
    echo "preprovision: COLLAB_OPERATOR_KEY is set but shorter than 16 characters. Replace it with" >&2
    echo "  azd env set COLLAB_OPERATOR_KEY \"\$(openssl rand -hex 32)\"" >&2
    exit 1
else
    echo "preprovision: COLLAB_OPERATOR_KEY kept."
fi
