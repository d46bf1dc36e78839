namespace Collab.Storage.Postgres;

/// <summary>The store's SQL, qualified with its schema once. Parameters are positional ($1…), so Npgsql sends the text as is.</summary>
internal sealed class PostgresStatements
{
    public PostgresStatements(string schema)
    {
        var s = PostgresSchema.Quote(schema);
        var head = $"""
            greatest(coalesce((SELECT max(rev) FROM {s}.ops WHERE doc = $1), 0),
                     coalesce((SELECT rev FROM {s}.snapshots WHERE doc = $1), 0))
            """;

        // The fence, in one statement and one round trip: the stored revision (last op or snapshot, whichever is newer)
        // and the insert of the whole batch, which happens only when the batch starts right after it. Two writers that
        // pass the check at once both try to insert the same (doc, rev): the second waits for the first and then fails
        // with unique_violation. The statement is atomic, so a batch is stored whole or not at all.
        // $1 doc, $2 revs, $3 client ids, $4 seqs, $5 ops.
        Append = $"""
            WITH head AS (SELECT {head} AS rev),
            inserted AS (
                INSERT INTO {s}.ops (doc, rev, client_id, seq, op)
                SELECT $1, o.rev, o.client_id, o.seq, o.op
                FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[]) AS o(rev, client_id, seq, op)
                WHERE (SELECT rev FROM head) = ($2::bigint[])[1] - 1
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM inserted), (SELECT rev FROM head);
            """;

        HeadRev = $"SELECT {head};";

        // $1 doc, $2 rev, $3 text (UTF-8), $4 clients (json).
        UpsertSnapshot = $"""
            INSERT INTO {s}.snapshots AS stored (doc, rev, text, clients) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (doc) DO UPDATE SET rev = excluded.rev, text = excluded.text, clients = excluded.clients, saved_at = now()
            WHERE excluded.rev > stored.rev;
            """;

        // One statement sees one committed state, so the snapshot and its tail always agree.
        // Rows: kind 0 = the snapshot (rev, text, clients), kind 1 = an op after it (rev, op, client_id, seq).
        Load = $"""
            WITH snap AS (SELECT rev, text, clients FROM {s}.snapshots WHERE doc = $1)
            SELECT 0 AS kind, rev, text, clients::text AS body, NULL::text AS client_id, NULL::bigint AS seq FROM snap
            UNION ALL
            SELECT 1, o.rev, NULL::bytea, o.op, o.client_id, o.seq
            FROM {s}.ops AS o
            WHERE o.doc = $1 AND o.rev > coalesce((SELECT rev FROM snap), 0)
            ORDER BY kind, rev;
            """;

        // $1 doc, $2 owner, $3 edit, $4 view generation, $5 created at.
        UpsertAccess = $"""
            INSERT INTO {s}.access (doc, owner_gen, edit_gen, view_gen, created_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (doc) DO UPDATE SET owner_gen = excluded.owner_gen, edit_gen = excluded.edit_gen, view_gen = excluded.view_gen;
            """;
        LoadAccess = $"SELECT owner_gen, edit_gen, view_gen, created_at FROM {s}.access WHERE doc = $1;";

        // $1 kind, $2 value, $3 revoked at, $4 expires at; expired revocations go in the same statement.
        UpsertRevocation = $"""
            WITH pruned AS (DELETE FROM {s}.revocations WHERE expires_at <= now())
            INSERT INTO {s}.revocations (kind, value, revoked_at, expires_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (kind, value) DO UPDATE SET revoked_at = excluded.revoked_at, expires_at = excluded.expires_at;
            """;
        // $1 owner, $2 doc.
        InsertOwned = $"INSERT INTO {s}.owned (owner, doc) VALUES ($1, $2) ON CONFLICT (owner, doc) DO NOTHING;";
        CountOwned = $"SELECT count(*)::integer FROM {s}.owned WHERE owner = $1;";
        LoadRevocations = $"SELECT kind, value, revoked_at, expires_at FROM {s}.revocations WHERE expires_at > $1 ORDER BY kind, value;";

        // $1 doc, $2 after rev, $3 limit.
        ReadOps = $"SELECT rev, client_id, seq, op FROM {s}.ops WHERE doc = $1 AND rev > $2 ORDER BY rev LIMIT $3;";
    }

    public string Append { get; }

    public string UpsertAccess { get; }

    public string LoadAccess { get; }

    public string UpsertRevocation { get; }

    public string LoadRevocations { get; }

    public string InsertOwned { get; }

    public string CountOwned { get; }

    public string HeadRev { get; }

    public string UpsertSnapshot { get; }

    public string Load { get; }

    public string ReadOps { get; }

    public static string Ping => "SELECT 1;";
}
