using Collab.Hosting;

// A silo of a Collab cluster: membership from Collab:Cluster (Redis or Azure Table for real clusters), documents in the
// store from Collab:Storage (PostgreSQL for clusters). The gateway listens on 30000 unless Collab:Cluster:GatewayPort says otherwise.
var builder = WebApplication.CreateBuilder(args);
builder.AddCollabSilo(defaultGatewayPort: 30000);

var app = builder.Build();
Telemetry.UseMetricsEndpoint(app);
HealthEndpoints.Map(app);
await app.RunAsync();
