using Collab.Web.Hosting;

if (args is ["mint", .. var rest]) return MintCommand.Run(rest, Console.Out, Console.Error);

await CollabApp.Build(args).RunAsync();
return 0;
