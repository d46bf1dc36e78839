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

        // The fence, in one statement and one round trip: the writer epoch (read under a share lock, so a claim either
        // waits for this append to commit or makes it see the raised epoch), the stored revision (last op or snapshot,
        // whichever is newer) and the insert of the whole batch, which happens only when the epoch is the writer's and the
        // batch starts right after the stored revision. Two writers that pass the check at once both try to insert the
        // same (doc, rev): the second waits for the first and then fails with unique_violation. The statement is atomic,
        // so a batch is stored whole or not at all.
        // $1 doc, $2 revs, $3 client ids, $4 seqs, $5 ops, $6 writer epoch.
        Append = $"""
            WITH fence AS (SELECT coalesce((SELECT epoch FROM {s}.writers WHERE doc = $1 FOR SHARE), 0) AS epoch),
            head AS (SELECT {head} AS rev),
            inserted AS (
                INSERT INTO {s}.ops (doc, rev, client_id, seq, op)
                SELECT $1, o.rev, o.client_id, o.seq, o.op
                FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[]) AS o(rev, client_id, seq, op)
                WHERE (SELECT epoch FROM fence) = $6 AND (SELECT rev FROM head) = ($2::bigint[])[1] - 1
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM inserted), (SELECT rev FROM head), (SELECT epoch FROM fence);
            """;

        // $1 doc: raises the writer epoch of a document the store holds something of (no row, no answer, for a fresh name).
        ClaimWriter = $"""
            INSERT INTO {s}.writers AS w (doc, epoch)
            SELECT $1, 1
            WHERE EXISTS (SELECT 1 FROM {s}.ops WHERE doc = $1) OR EXISTS (SELECT 1 FROM {s}.snapshots WHERE doc = $1)
               OR EXISTS (SELECT 1 FROM {s}.access WHERE doc = $1) OR EXISTS (SELECT 1 FROM {s}.writers WHERE doc = $1)
            ON CONFLICT (doc) DO UPDATE SET epoch = w.epoch + 1
            RETURNING epoch;
            """;

        HeadRev = $"SELECT {head};";

        // $1 doc, $2 rev, $3 text (UTF-8), $4 clients (json), $5 keep as a checkpoint too.
        UpsertSnapshot = $"""
            WITH checkpoint AS (
                INSERT INTO {s}.checkpoints (doc, rev, text) SELECT $1, $2, $3 WHERE $5 ON CONFLICT (doc, rev) DO NOTHING
            )
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
            UNION ALL
            SELECT 2, coalesce(max(c.rev), 0), NULL, NULL, NULL, NULL FROM {s}.checkpoints AS c WHERE c.doc = $1
            ORDER BY kind, rev;
            """;

        // $1 doc.
        Exists = $"""
            SELECT EXISTS (SELECT 1 FROM {s}.ops WHERE doc = $1) OR EXISTS (SELECT 1 FROM {s}.snapshots WHERE doc = $1)
                OR EXISTS (SELECT 1 FROM {s}.access WHERE doc = $1);
            """;

        // $1 doc.
        Measure = $"""
            SELECT (SELECT count(*) FROM {s}.ops WHERE doc = $1),
                   (SELECT coalesce(sum(octet_length(op)), 0)::bigint FROM {s}.ops WHERE doc = $1),
                   (SELECT coalesce(min(rev), 0) FROM {s}.ops WHERE doc = $1),
                   (SELECT count(*) FROM {s}.checkpoints WHERE doc = $1),
                   (SELECT coalesce(sum(octet_length(text)), 0)::bigint FROM {s}.checkpoints WHERE doc = $1),
                   coalesce((SELECT rev FROM {s}.snapshots WHERE doc = $1), 0),
                   coalesce((SELECT octet_length(text) FROM {s}.snapshots WHERE doc = $1), 0)::bigint;
            """;

        // $1 the schema name: every table of the schema with its indexes and TOAST.
        MeasureStore = """
            SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
            FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind = 'r';
            """;

        // $1 after doc, $2 committed before, $3 limit.
        ListCompactable = $"""
            SELECT DISTINCT o.doc FROM {s}.ops AS o
            WHERE o.doc > $1 AND o.committed_at < $2
              AND EXISTS (SELECT 1 FROM {s}.checkpoints AS c WHERE c.doc = o.doc AND c.rev >= o.rev AND c.saved_at < $2)
            ORDER BY o.doc LIMIT $3;
            """;

        // The compaction point: the newest checkpoint at or before the newest op older than the retention window or
        // beyond the op-byte budget (counted from the newest op back). $1 doc, $2 retain since, $3 max op bytes.
        CompactionPoint = $"""
            WITH outside AS (
                SELECT max(rev) AS rev FROM {s}.ops WHERE doc = $1 AND committed_at < $2
                UNION ALL
                SELECT max(rev) FROM (
                    SELECT rev, sum(octet_length(op)) OVER (ORDER BY rev DESC ROWS UNBOUNDED PRECEDING) AS newer
                    FROM {s}.ops WHERE doc = $1) AS n
                WHERE newer > $3
            )
            SELECT max(c.rev) FROM {s}.checkpoints AS c WHERE c.doc = $1 AND c.rev <= (SELECT max(rev) FROM outside);
            """;

        // $1 doc, $2 through rev, $3 step: the oldest ops first, a bounded step at a time.
        FoldOps = $"""
            DELETE FROM {s}.ops WHERE doc = $1 AND rev <= $2 AND rev < (SELECT min(rev) FROM {s}.ops WHERE doc = $1) + $3;
            """;

        // $1 doc, $2 before rev, $3 every: before the compaction point keep the newest checkpoint of every $3 revisions.
        ThinCheckpoints = $"""
            DELETE FROM {s}.checkpoints WHERE doc = $1 AND rev < $2
            AND rev NOT IN (SELECT max(rev) FROM {s}.checkpoints WHERE doc = $1 AND rev < $2 GROUP BY rev / $3);
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

    public string ClaimWriter { get; }

    public string UpsertAccess { get; }

    public string LoadAccess { get; }

    public string UpsertRevocation { get; }

    public string LoadRevocations { get; }

    public string InsertOwned { get; }

    public string CountOwned { get; }

    public string HeadRev { get; }

    public string UpsertSnapshot { get; }

    public string Load { get; }

    public string Exists { get; }

    public string Measure { get; }

    public string MeasureStore { get; }

    public string ListCompactable { get; }

    public string CompactionPoint { get; }

    public string FoldOps { get; }

    public string ThinCheckpoints { get; }

    public string ReadOps { get; }

    public static string Ping => "SELECT 1;";
}
