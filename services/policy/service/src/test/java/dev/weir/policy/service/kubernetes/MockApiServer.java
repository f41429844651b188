package dev.weir.policy.service.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;

/** fabric8's mock API server in CRUD mode (it keeps what clients create and serves lists and watches of it). */
public final class MockApiServer {

    private MockApiServer() {
    }

    /** The mock server speaks plain HTTP/1.1; the JDK client would try an HTTP/2 upgrade. */
    static final class Http11 extends JdkHttpClientFactory {
        @Override
        protected void additionalConfig(java.net.http.HttpClient.Builder builder) {
            builder.version(java.net.http.HttpClient.Version.HTTP_1_1);
        }
    }

    public static KubernetesMockServer start() {
        KubernetesMockServer server = new KubernetesMockServer(new io.fabric8.mockwebserver.Context(),
                new io.fabric8.mockwebserver.MockWebServer(), new java.util.HashMap<>(), new KubernetesCrudDispatcher(),
                false);
        server.init();
        return server;
    }

    public static KubernetesClient client(KubernetesMockServer server) {
        return server.createClient(new Http11());
    }
}
