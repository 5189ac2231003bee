from govcompare.cli import main

main()
