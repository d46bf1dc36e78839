using Collab.Web.Hosting;

await CollabApp.Build(args).RunAsync();
