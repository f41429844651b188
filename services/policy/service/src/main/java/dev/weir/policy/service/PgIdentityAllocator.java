package dev.weir.policy.service;

import dev.weir.policy.model.Identity;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Security identities kept in PostgreSQL: one number per label set, allocated once and the same
 * after any restart. A cache spares the database the lookups of a compile.
 */
@Component
public class PgIdentityAllocator implements Identity.Allocator {

    private final JdbcClient jdbc;
    private final Map<String, Integer> cache = new ConcurrentHashMap<>();

    public PgIdentityAllocator(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public int allocate(String key) {
        Integer cached = cache.get(key);
        if (cached != null) {
            return cached;
        }
        String kind = key.startsWith("cidr:") ? "cidr" : "endpoint";
        String[] labels = key.split(",");
        Integer id = jdbc.sql("""
                INSERT INTO identity (id, label_key, labels, kind) VALUES (nextval('identity_id_seq'), ?, ?, ?)
                ON CONFLICT (label_key) DO NOTHING RETURNING id""")
                .params(key, labels, kind).query(Integer.class).optional()
                .orElseGet(() -> jdbc.sql("SELECT id FROM identity WHERE label_key = ?").param(key).query(Integer.class).single());
        cache.put(key, id);
        return id;
    }
}
