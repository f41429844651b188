package dev.weir.common.auth;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who may call the Observer APIs, which only read: a client whose TLS certificate the listener
 * verified against its client CA (the Hubble CLI's --tls-client-cert-file), or one with a bearer
 * token of any scope. With client names given, only certificates whose subject CN is one of
 * them count (a CA that also signs the components' Kafka certificates must not make every
 * component an Observer client). Everyone else is refused UNAUTHENTICATED.
 */
public final class ObserverAuthentication implements ServerInterceptor {

    private final BearerTokenInterceptor tokens;
    private final java.util.Set<String> clientNames;

    /** @param clientNames the subject CNs a client certificate may have; empty: any the client CA signed */
    public ObserverAuthentication(BearerTokens tokens, java.util.Collection<String> clientNames) {
        this.tokens = new BearerTokenInterceptor(tokens);
        this.clientNames = java.util.Set.copyOf(clientNames);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (verifiedClient(call)) {
            return next.startCall(call, headers);
        }
        return tokens.interceptCall(call, headers, next);
    }

    /**
     * True when the TLS handshake verified a client certificate: the listener asks for one only
     * with a client CA configured and takes only those that CA signed, so its presence is proof.
     */
    boolean verifiedClient(ServerCall<?, ?> call) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return false;
        }
        java.security.cert.Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException none) {
            return false;
        }
        if (chain.length == 0 || !(chain[0] instanceof java.security.cert.X509Certificate leaf)) {
            return false;
        }
        return clientNames.isEmpty() || clientNames.contains(commonName(leaf));
    }

    /** The subject's CN, or "" without one. */
    public static String commonName(java.security.cert.X509Certificate certificate) {
        try {
            for (javax.naming.ldap.Rdn rdn : new javax.naming.ldap.LdapName(
                    certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (javax.naming.InvalidNameException e) {
            return "";
        }
        return "";
    }
}
